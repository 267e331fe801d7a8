"""The TF-IDF model counted over integer codes (matching/tfidf.py) is the model counted token by
token, to the last bit: the same columns, idf and rows, so every score and ranking is unchanged."""
import math
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from matching.text import TextModel, Vocabulary

WORDS = ["ride", "rides", "clinic", "groceries", "food", "resume", "resmue", "writing", "currículum", "comida",
         "transporte", "al", "médico", "tutoring", "math", "bike", "repair", "the", "for", "week", "2", "mañana",
         "computadora", "computadra", "laptop", "furniture", "sofa", "couch", "moving", "help", "job", "interview"]


def _reference(vocabulary, texts, weights=None):
    """The model as it was counted before: a Counter of document frequencies, token by token."""
    terms = [vocabulary.terms(t) for t in texts]
    df = Counter()
    for (distinct, _), w in zip(terms, weights or [1] * len(texts)):
        for tok in distinct:
            df[tok] += w
    total = sum(weights) if weights else len(texts)
    index = {tok: i for i, tok in enumerate(sorted(df))}
    idf = np.array([math.log((1 + total) / (1 + df[tok])) + 1.0 for tok in sorted(df)])
    n = len(terms)
    tokens = [t for distinct, _ in terms for t in distinct]
    cols = np.fromiter((index.get(t, -1) for t in tokens), dtype=np.int64, count=len(tokens))
    rows = np.repeat(np.arange(n, dtype=np.int64), [len(distinct) for distinct, _ in terms])
    tf = np.fromiter((w for _, ws in terms for w in ws), dtype=np.float64, count=len(tokens))
    vals = tf * idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=vals * vals, minlength=n))
    return index, idf, sparse.csr_matrix((vals / norms[rows], (rows, cols)), shape=(n, len(index)))


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


texts = st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=8).map(" ".join), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(texts=texts, data=st.data())
def test_the_coded_model_is_the_token_by_token_model_bit_for_bit(texts, data):
    uniq = sorted(set(texts))
    weights = data.draw(st.none() | st.lists(st.integers(1, 50), min_size=len(uniq), max_size=len(uniq)))
    vocabulary = Vocabulary()
    # Some texts coded by an earlier model (a server's vocabulary lives on between calls).
    TextModel(vocabulary, uniq[: len(uniq) // 2])
    model = TextModel(vocabulary, uniq, weights)
    index, idf, matrix = _reference(Vocabulary(), uniq, weights)
    assert model.index == index
    assert _same_bits(model.idf, idf)
    assert _same_bits(model.matrix.toarray(), matrix.toarray())
    # and texts outside the model (a new post) are read into the same space
    new = data.draw(st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join))
    assert _same_bits(model.vectors_for([new]).toarray(), _vectors_for(index, idf, Vocabulary(), new).toarray())


def _vectors_for(index, idf, vocabulary, text):
    distinct, weights = vocabulary.terms(text)
    cols = np.fromiter((index.get(t, -1) for t in distinct), dtype=np.int64, count=len(distinct))
    tf = np.array(weights, dtype=np.float64)
    known = cols >= 0
    cols, tf = cols[known], tf[known]
    vals = tf * idf[cols]
    norm = np.sqrt(np.bincount(np.zeros(len(cols), dtype=np.int64), weights=vals * vals, minlength=1))
    return sparse.csr_matrix((vals / norm[0], (np.zeros(len(cols), dtype=np.int64), cols)), shape=(1, len(index)))


def test_codes_are_handed_out_once_across_threads():
    import threading

    vocabulary = Vocabulary()
    batches = [[f"{a} {b}" for a in WORDS for b in WORDS[i::4]] for i in range(4)]
    threads = [threading.Thread(target=lambda b=b: [vocabulary.codes.of(t) for t in b]) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = vocabulary.codes.names()
    assert len(set(names.tolist())) == len(names)
    for batch in batches:
        for text in batch:
            codes, _ = vocabulary.codes.of(text)
            assert names[codes].tolist() == list(vocabulary.terms(text)[0])


def test_a_full_table_of_codes_is_replaced_and_the_model_is_unchanged(monkeypatch):
    from matching import tfidf

    monkeypatch.setattr(tfidf, "_CODES_KEPT", 5)
    vocabulary = Vocabulary()
    first = vocabulary.codes
    TextModel(vocabulary, ["ride to the clinic", "groceries for the week", "bike repair"])
    assert first.full()
    texts = ["resume writing", "ride to the clinic", "comida para mañana", "a" * 1900]
    model = TextModel(vocabulary, texts)
    assert vocabulary.codes is not first
    index, idf, matrix = _reference(Vocabulary(), texts)
    assert model.index == index and _same_bits(model.idf, idf)
    assert _same_bits(model.matrix.toarray(), matrix.toarray())
    assert vocabulary.codes.names().dtype == object
