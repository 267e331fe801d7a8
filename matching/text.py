"""How well a need's words fit an offer's: TF-IDF cosine over normalised concept tokens.

Words are lower-cased, lightly stemmed, corrected for typos against the known vocabulary with
rapidfuzz, and mapped through a small thesaurus of mutual-aid wording ("lift" and "drive" mean
a ride, "clinic" and "doctor" mean medical, "cv" means resume), so "help with my resume" fits
"resume writing and interview practice" and not "sewing lessons". IDF is computed per category,
so words every post in a category shares ("ride" among rides) count for little.
"""
from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
from rapidfuzz import fuzz, process
from scipy import sparse

STOPWORDS = frozenset("""
a an the to for of on in at by with from and or but my me i we our us you your it its this that these those
is are be been am was were do does did have has had can could would will shall should may might must
need needs needed needing want wants wanted looking look help helping helps please some any just
get getting got give giving free few more much very really also so as if not no yes up out about into
week weekly day days today tomorrow time times new extra own one two three offer offering available
""".split())

# concept -> words that mean it (after stemming). A word may name more than one concept.
THESAURUS = {
    "ride": "ride rides lift drive driver driving transport transportation car carpool commute trip",
    "medical": "medical medicine clinic doctor appointment hospital dentist dental health therapy visit prescription copay medication pharmacy",
    "work": "work job interview employment commute shift career",
    "meeting": "meeting recovery sober aa na twelve step group circle",
    "errand": "errand grocery groceries shopping store pharmacy",
    "grocery": "grocery groceries food shelf pantry bag box",
    "meal": "meal meals dinner lunch breakfast cooked hot prepared homecooked portion soup casserole",
    "produce": "produce vegetable veggie fruit garden farm fresh",
    "baby": "baby infant formula diaper newborn toddler",
    "resume": "resume cv cover letter application",
    "computer": "computer laptop email tech technology internet phone smartphone tablet literacy beginner",
    "budget": "budget budgeting money financial finance manage management plan planning saving",
    "garden": "garden gardening plant planting grow seed vegetable",
    "sew": "sew sewing mend mending hem hemming stitch tailor repair clothing",
    "cook": "cook cooking kitchen chef nutrition recipe healthy",
    "rent": "rent landlord housing eviction apartment lease",
    "utility": "utility utilities electric electricity heat heating gas water shutoff power",
    "recovery": "recovery sober sobriety addiction relapse peer mentor",
    "grief": "grief grieving loss lost loved bereavement mourning widow",
    "parent": "parent parenting mom dad mother father single kid child",
    "furniture": "furniture bed frame mattress dresser table chair couch sofa desk",
    "winter": "winter coat jacket boot glove hat scarf mitten warm snow",
    "kitchenware": "kitchen pot pan dish utensil plate cookware silverware cup mug starter",
    "lesson": "lesson class workshop tutoring tutor teach teaching coaching coach learn",
}
_CONCEPTS: dict[str, tuple[str, ...]] = {}
for _concept, _words in THESAURUS.items():
    for _w in _words.split():
        _CONCEPTS[_w] = tuple(sorted(set(_CONCEPTS.get(_w, ()) + (_concept,))))

_WORD = re.compile(r"[a-z0-9]+")


def stem(word: str) -> str:
    """A light English stemmer: plurals and -ing, enough to join 'clinics' with 'clinic'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class Vocabulary:
    """Maps words to concept tokens, with typo correction against the words it knows."""

    def __init__(self):
        self._known = sorted(set(_CONCEPTS) | {stem(w) for w in _CONCEPTS})
        self._cache: dict[str, tuple[str, ...]] = {}

    def tokens(self, text: str) -> list[str]:
        out = []
        for raw in _WORD.findall((text or "").lower()):
            if raw in STOPWORDS or len(raw) < 2:
                continue
            mapped = self._cache.get(raw)
            if mapped is None:
                mapped = self._map(raw)
                self._cache[raw] = mapped
            out.extend(mapped)
        return out

    def _map(self, raw: str) -> tuple[str, ...]:
        word = stem(raw)
        for candidate in (raw, word):
            if candidate in _CONCEPTS:
                return (word,) + _CONCEPTS[candidate]
        if len(word) >= 5:  # a typo of a known word ("resmue", "grocreies")
            hit = process.extractOne(word, self._known, scorer=fuzz.ratio, score_cutoff=80)
            if hit is not None:
                known = hit[0]
                return (known,) + _CONCEPTS.get(known, ())
        return (word,)


class TextModel:
    """TF-IDF vectors for unique texts of one category; cosine similarity for pairs of them."""

    def __init__(self, vocabulary: Vocabulary, texts: list[str], weights: list[int] | None = None):
        self.vocabulary = vocabulary
        token_lists = [vocabulary.tokens(t) for t in texts]
        df = Counter()
        for tokens, w in zip(token_lists, weights or [1] * len(texts)):
            for tok in set(tokens):
                df[tok] += w
        total = sum(weights) if weights else len(texts)
        self.index = {tok: i for i, tok in enumerate(sorted(df))}
        self.idf = np.array([math.log((1 + total) / (1 + df[tok])) + 1.0 for tok in sorted(df)])
        self._default_idf = math.log(1 + total) + 1.0
        self.matrix = self._vectors(token_lists)

    def _vectors(self, token_lists: list[list[str]]) -> sparse.csr_matrix:
        rows, cols, vals = [], [], []
        for r, tokens in enumerate(token_lists):
            counts = Counter(t for t in tokens if t in self.index)
            if not counts:
                continue
            weights = {self.index[t]: (1 + math.log(c)) * self.idf[self.index[t]] for t, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in weights.values()))
            for c, v in weights.items():
                rows.append(r), cols.append(c), vals.append(v / norm)
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(token_lists), len(self.index)))

    def vectors_for(self, texts: list[str]) -> sparse.csr_matrix:
        """Vectors for texts outside the model (a new post), in the model's token space."""
        return self._vectors([self.vocabulary.tokens(t) for t in texts])

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
