"""TF-IDF over the texts of one category, and the integer codes of tokens that make it cheap.

An engine for one new post is built again on every call, over the same few thousand offers, so the
model's document frequencies and vectors were counted token by token in Python each time (about a
quarter of a proposal's CPU at 100,000 posts). Each text's distinct tokens are now kept as integer
codes (`TermCodes`, one per `Vocabulary`), and the counting is done by numpy over those codes.

The model is the same, to the last bit, as when it was counted token by token: the same columns
(tokens in sorted order), the same inverse document frequencies (computed by `math.log` from the
same exact counts) and the same rows (each text's tokens in the same order, so each norm sums the
same squares in the same order); tests/matching/test_tfidf.py compares the two.
"""
from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from matching.text import Vocabulary

_TEXTS_KEPT = 100_000
# Codes handed out before a vocabulary starts a fresh table (any run of letters or digits in a
# post's details is a token, so the table would otherwise grow with every post for good).
_CODES_KEPT = 200_000


class TermCodes:
    """A stable integer for every token a vocabulary has produced, and each text's distinct tokens
    as those integers with their term weights (kept, like the vocabulary's own caches)."""

    def __init__(self, vocabulary: "Vocabulary"):
        self.vocabulary = vocabulary
        self._code: dict[str, int] = {}
        self._names: list[str] = []
        self._names_array = np.zeros(0, dtype=object)
        self._texts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()  # web threads share one vocabulary: codes are handed out once

    def of(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes of the text's distinct tokens in order of first appearance, their 1 + log counts)."""
        found = self._texts.get(text)
        if found is None:
            distinct, weights = self.vocabulary.terms(text)
            with self._lock:
                for tok in distinct:
                    if tok not in self._code:
                        self._code[tok] = len(self._names)
                        self._names.append(tok)
                codes = np.fromiter((self._code[t] for t in distinct), dtype=np.int64, count=len(distinct))
            found = (codes, np.array(weights, dtype=np.float64))
            if len(self._texts) >= _TEXTS_KEPT:
                self._texts.clear()
            self._texts[text] = found
        return found

    def full(self) -> bool:
        return len(self._names) >= _CODES_KEPT

    def names(self) -> np.ndarray:
        """Every token so far as a numpy array of Python strings, indexed by code (objects, not a
        fixed-width string array: that would give every token the room of the longest one, and
        its order is Python's own)."""
        with self._lock:
            if len(self._names_array) != len(self._names):
                names = np.empty(len(self._names), dtype=object)
                names[:] = self._names
                self._names_array = names
            return self._names_array


class TextModel:
    """TF-IDF vectors for unique texts of one category; cosine similarity for pairs of them."""

    def __init__(self, vocabulary: "Vocabulary", texts: list[str], weights: list[int] | None = None):
        self.vocabulary = vocabulary
        codes_of = vocabulary.codes
        if codes_of.full():  # a fresh table; a model being built elsewhere keeps the one it began with
            codes_of = vocabulary.codes = TermCodes(vocabulary)
        coded = [codes_of.of(t) for t in texts]
        names = codes_of.names()
        n = len(texts)
        lens = np.fromiter((len(c) for c, _ in coded), dtype=np.int64, count=n)
        codes = np.concatenate([c for c, _ in coded]) if n else np.zeros(0, dtype=np.int64)
        tf = np.concatenate([w for _, w in coded]) if n else np.zeros(0)
        w = np.asarray(weights, dtype=np.float64) if weights else np.ones(n)
        # Each token's document frequency (texts weighted by how many posts share them): sums of
        # whole numbers, exact in float64.
        df = np.bincount(codes, weights=np.repeat(w, lens), minlength=len(names))
        present = np.flatnonzero(df)
        order = present[np.argsort(names[present], kind="stable")]  # the tokens in sorted order: the columns
        total = sum(weights) if weights else n
        tokens = names[order].tolist()
        self.index = dict(zip(tokens, range(len(tokens))))
        self.idf = np.array([math.log((1 + total) / (1 + d)) + 1.0 for d in df[order].tolist()])
        self._default_idf = math.log(1 + total) + 1.0
        column = np.full(len(names), -1, dtype=np.int64)
        column[order] = np.arange(len(order), dtype=np.int64)
        self.matrix = self._rows(n, lens, column[codes], tf)

    def _rows(self, n: int, lens: np.ndarray, cols: np.ndarray, tf: np.ndarray) -> sparse.csr_matrix:
        """Unit TF-IDF rows: (1 + log count) * idf for each of a text's tokens that the model knows
        (column >= 0), divided by the row's norm (its squares summed in the tokens' order)."""
        rows = np.repeat(np.arange(n, dtype=np.int64), lens)
        known = cols >= 0
        rows, cols, tf = rows[known], cols[known], tf[known]
        vals = tf * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=vals * vals, minlength=n))
        return sparse.csr_matrix((vals / norms[rows], (rows, cols)), shape=(n, len(self.index)))

    def vectors_for(self, texts: list[str]) -> sparse.csr_matrix:
        """Vectors for texts outside the model (a new post), in the model's token space."""
        terms = [self.vocabulary.terms(t) for t in texts]
        index = self.index
        lens = np.fromiter((len(distinct) for distinct, _ in terms), dtype=np.int64, count=len(terms))
        tokens = [t for distinct, _ in terms for t in distinct]
        cols = np.fromiter((index.get(t, -1) for t in tokens), dtype=np.int64, count=len(tokens))
        tf = np.fromiter((x for _, weights in terms for x in weights), dtype=np.float64, count=len(tokens))
        return self._rows(len(terms), lens, cols, tf)

    @staticmethod
    def pair_similarity(a: sparse.csr_matrix, b: sparse.csr_matrix, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
        """Cosine similarity of rows a[ia[k]] and b[ib[k]] for every k (vectorised, unique pairs once)."""
        if len(ia) == 0:
            return np.zeros(0)
        width = np.int64(b.shape[0])
        code = np.asarray(ia, dtype=np.int64) * width + np.asarray(ib, dtype=np.int64)
        uniq, inverse = np.unique(code, return_inverse=True)
        ua, ub = uniq // width, uniq % width
        sims = np.asarray(a[ua].multiply(b[ub]).sum(axis=1)).ravel()
        return np.clip(sims[inverse], 0.0, 1.0)

    def shared_words(self, a_text: str, b_text: str, limit: int = 2) -> list[str]:
        """The most telling concept words two texts share, for a reason a coordinator reads."""
        a, b = set(self.vocabulary.tokens(a_text)), set(self.vocabulary.tokens(b_text))
        shared = [t for t in a & b if t in self.index]
        shared.sort(key=lambda t: (-self.idf[self.index[t]], t))
        return shared[:limit]
