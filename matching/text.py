"""How well a need's words fit an offer's: TF-IDF cosine over normalised concept tokens, in English and Spanish.

Words are lower-cased with their accents dropped ("Currículum" -> "curriculum"), lightly stemmed,
corrected for typos against the known vocabulary with rapidfuzz, and mapped through a small
thesaurus of mutual-aid wording ("lift" and "drive" mean a ride, "clinic" and "doctor" mean
medical, "cv" means resume), so "help with my resume" fits "resume writing and interview practice"
and not "sewing lessons". IDF is computed per category, so words every post in a category shares
("ride" among rides) count for little.

Spanish posts go through the same concepts: every concept has Spanish words too (THESAURUS_ES,
"aventón" and "raite" mean a ride, "cita" medical, "currículum" resume), matched through the Snowball
Spanish stemmer, and Spanish filler words are dropped (STOPWORDS_ES), so "necesito raite a mi cita
médica" fits "Rides to medical appointments" and "Llevo vecinos a sus citas médicas" alike.

English words keep exactly the tokens they had before Spanish was added:
- a word of the English thesaurus keeps its English meaning ("pan" is a cooking pan; only in a
  text that is Spanish, see below, does "pan" mean bread: FALSE_FRIENDS);
- an English word that the Spanish tables would read otherwise ("come", "mesa", "los", "taxi", ...:
  ENGLISH_LOOKALIKES, every such word of Debian's English word lists) keeps its English tokens unless
  the text it is in is Spanish;
- typos are corrected against the English words first, then against the Spanish ones (by sound,
  "curiculum", "abenton", and strictly, so English words are not caught).
A text is Spanish when it has a word that is Spanish and not English ("necesito", "citas", "aventón"),
or two Spanish filler words and no English one ("me van a cortar la luz"); a text that is not Spanish
reads exactly as before, but for accents (folded now: "résumé" is "resume") and "curriculum" (which
is "resume" now, in any text).
"""
from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata
from collections import Counter

import snowballstemmer
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from matching.tfidf import TermCodes, TextModel  # noqa: F401 - TextModel is imported from here too

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


# The Spanish words and the English lookalikes are data: matching/text_es.py.
from matching.text_es import (ENGLISH_AMBIGUOUS, ENGLISH_LOOKALIKES, FALSE_FRIENDS, SPANISH_ON_PURPOSE,  # noqa: E402,F401
                              STOPWORDS_ES, THESAURUS_ES)

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


def fold(text: str) -> str:
    """Lower-case and drop accents: NFKD, then no combining marks ('Currículum' -> 'curriculum', 'niño' -> 'nino')."""
    text = (text or "").lower()
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


_ES_STEMMER = snowballstemmer.stemmer("spanish")
_ES_LOCK = threading.Lock()  # a Snowball stemmer object keeps its state while it works


@functools.lru_cache(maxsize=1 << 16)
def stem_es(word: str) -> str:
    """The Snowball Spanish stem of a folded word ('aventones' -> 'aventon', 'médicas' -> 'medic')."""
    with _ES_LOCK:
        return _ES_STEMMER.stemWord(word)


def _plural(word: str) -> str:
    return word if word.endswith("s") else word + ("s" if word[-1] in "aeiou" else "es")


def sounds_es(word: str) -> str:
    """How a folded Spanish word sounds, the letters people mix up made one ('cosina' and 'cocina' -> 'kosina';
    'abenton', 'nesesito', 'yevar', 'ijos', 'curiculum' sound as 'aventón', 'necesito', 'llevar', 'hijos', 'currículum')."""
    w = word.replace("ch", "1").replace("h", "")
    w = _GUE.sub("2", w)
    w = _GE.sub("j", w)
    w = _QUE.sub("k", w)
    w = _CE.sub("s", w)
    w = w.translate(_SOUND_LETTERS).replace("ll", "y").replace("2", "g")
    return _DOUBLE.sub(r"\1", w).replace("1", "ch")


_GUE, _GE, _QUE, _CE = re.compile(r"gu(?=[ei])"), re.compile(r"g(?=[ei])"), re.compile(r"qu(?=[ei])"), re.compile(r"c(?=[ei])")
_SOUND_LETTERS = str.maketrans({"z": "s", "c": "k", "q": "k", "v": "b"})
_DOUBLE = re.compile(r"(.)\1+")


_STOP_ES = frozenset(fold(w) for w in STOPWORDS_ES)
_EN_ONLY_STOP = STOPWORDS - _STOP_ES
_ES_CONCEPTS: dict[str, tuple[str, ...]] = {}   # Spanish stem -> concepts
_ES_FORMS: dict[str, str] = {}                  # folded Spanish word (and its plural) -> its stem, for typos
for _concept, _words in THESAURUS_ES.items():
    for _w in fold(_words).split():
        _s = stem_es(_w)
        _ES_CONCEPTS[_s] = tuple(sorted(set(_ES_CONCEPTS.get(_s, ()) + (_concept,))))
        _ES_FORMS.setdefault(_w, _s)
        if len(_w) >= 4:
            _ES_FORMS.setdefault(_plural(_w), _s)
# The word token of a Spanish stem: the English word that means exactly its concepts, so that a Spanish
# word weighs as its English counterpart ("aventón" is "ride", "currículum" "resume", "farmacia"
# "pharmacy"), else the first Spanish word listed with that stem ("comida": grocery and meal), which
# a coordinator can read in a reason ("same kind of help: comida").
_EN_BY_CONCEPTS: dict[tuple[str, ...], str] = {}
for _w in sorted(_CONCEPTS):
    _EN_BY_CONCEPTS.setdefault(_CONCEPTS[_w], stem(_w))
for _concept in THESAURUS:
    _EN_BY_CONCEPTS[(_concept,)] = _concept
_ES_FIRST = {}
for _words in THESAURUS_ES.values():
    for _w in fold(_words).split():
        _ES_FIRST.setdefault(stem_es(_w), _w)
_ES_TOKENS = {_s: (_EN_BY_CONCEPTS.get(_c, _ES_FIRST[_s]),) + _c for _s, _c in _ES_CONCEPTS.items()}
_ES_SOUNDS: dict[str, str] = {}                 # how a Spanish thesaurus word sounds -> its stem
for _w, _s in _ES_FORMS.items():
    _ES_SOUNDS.setdefault(sounds_es(_w), _s)
_ES_SOUND_KEYS = sorted(_ES_SOUNDS)
_STOP_SOUNDS = frozenset(sounds_es(w) for w in _STOP_ES if len(w) >= 6)



_TEXTS_KEPT = 100_000


class Vocabulary:
    """Maps words to concept tokens, with typo correction against the words it knows."""

    def __init__(self):
        self._texts: dict[str, tuple[str, ...]] = {}      # whole texts (a post's text is read again for reasons)
        self._terms: dict[str, tuple] = {}                # whole texts -> (distinct tokens, 1 + log counts)
        self._cache: dict[str, tuple[str, ...]] = {}      # words of texts that are not Spanish
        self._cache_es: dict[str, tuple[str, ...]] = {}   # words of Spanish texts
        self.codes = TermCodes(self)                      # tokens as integers, for TF-IDF (matching/tfidf.py)

    def tokens(self, text: str) -> list[str]:
        found = self._texts.get(text)
        if found is None:
            if len(self._texts) >= _TEXTS_KEPT:
                self._texts.clear()
            found = self._texts[text] = tuple(self._read(text))
        return list(found)

    def terms(self, text: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
        """A text's distinct tokens, in order of first appearance, and each one's term weight
        1 + log(count): what a TF-IDF model needs of a text, read once per text (an engine for one
        post is built again on every call, over the same few thousand offers)."""
        found = self._terms.get(text)
        if found is None:
            if len(self._terms) >= _TEXTS_KEPT:
                self._terms.clear()
            counts = Counter(self.tokens(text))
            found = self._terms[text] = (tuple(counts), tuple(1 + math.log(c) for c in counts.values()))
        return found

    def _read(self, text: str) -> list[str]:
        every = _WORD.findall(fold(text))
        words = [w for w in every if w not in STOPWORDS and len(w) >= 2]
        spanish = any(_spanish_only(w) for w in words) or _spanish_fillers(every)
        cache, read = (self._cache_es, _read_spanish) if spanish else (self._cache, _read_english)
        out = []
        for raw in words:
            mapped = cache.get(raw)
            if mapped is None:
                mapped = cache[raw] = read(raw)
            out.extend(mapped)
        return out


def _english_exact(raw: str, word: str) -> tuple[str, ...] | None:
    for candidate in (raw, word):
        if candidate in _CONCEPTS:
            return (word,) + _CONCEPTS[candidate]
    return None


_EN_KNOWN = sorted(set(_CONCEPTS) | {stem(w) for w in _CONCEPTS})


@functools.lru_cache(maxsize=1 << 16)
def _typo_english(word: str) -> tuple[str, ...] | None:
    """The tokens of the English word a stemmed word is a typo of ("resmue", "grocreies"), or None."""
    if len(word) >= 5:
        hit = process.extractOne(word, _EN_KNOWN, scorer=fuzz.ratio, score_cutoff=80)
        if hit is not None:
            known = hit[0]
            return (known,) + _CONCEPTS.get(known, ())
    return None


def read_english_only(raw: str) -> tuple[str, ...]:
    """How the engine read a word before it knew Spanish: English thesaurus, English typos, or the stem."""
    word = stem(raw)
    hit = _english_exact(raw, word) or _typo_english(word)
    return hit if hit is not None else (word,)


def _read_english(raw: str, lookalikes: frozenset | None = None) -> tuple[str, ...]:
    """A word of a text that is not Spanish: as before, and a word unknown to English may be a Spanish typo."""
    if raw in SPANISH_ON_PURPOSE:
        return _read_spanish(raw)
    word = stem(raw)
    hit = _english_exact(raw, word) or _typo_english(word)
    if hit is None and raw not in (ENGLISH_LOOKALIKES if lookalikes is None else lookalikes):
        hit = _typo_spanish(raw)
    return hit if hit is not None else (word,)


def _read_spanish(raw: str) -> tuple[str, ...]:
    """A word of a Spanish text: English thesaurus (but for a false friend), Spanish filler, Spanish
    thesaurus (an English cognate's token when the English typo reading means the same: 'clinica' ->
    'clinic'), Spanish typos, English typos."""
    word = stem(raw)
    if raw not in FALSE_FRIENDS:
        hit = _english_exact(raw, word)
        if hit is not None:
            return hit
    if raw in _STOP_ES:
        return ()
    english = _typo_english(word)
    es = stem_es(raw)
    concepts = _ES_CONCEPTS.get(es)
    if concepts is not None:
        if english is not None and set(english[1:]) & set(concepts):
            return (english[0],) + tuple(sorted(set(english[1:]) | set(concepts)))
        return _ES_TOKENS[es]
    hit = _typo_spanish(raw)
    if hit is None:
        hit = english
    return hit if hit is not None else (word,)


def _spanish_fillers(words: list[str]) -> bool:
    """Two Spanish filler words that are English words too but not English filler ("me van a cortar la
    luz": "van", "la"), and no English-only filler ("the", "to", "for"...), also make a text Spanish."""
    fillers = {w for w in words if w in _STOP_ES and w not in STOPWORDS and len(w) >= 2}
    return len(fillers) >= 2 and not any(w in _EN_ONLY_STOP for w in words)


def _spanish_only(raw: str) -> bool:
    """A word that is Spanish and not English ("necesito", "para", "citas"): it makes the text it is in Spanish."""
    return raw not in ENGLISH_LOOKALIKES and raw not in SPANISH_ON_PURPOSE and _spanish_word(raw)


@functools.lru_cache(maxsize=1 << 16)
def _spanish_word(raw: str) -> bool:
    """A Spanish filler or thesaurus word that English does not read the same way: not in the English
    thesaurus, and not an English typo of the same meaning ('clinica' is 'clinic' to English too)."""
    word = stem(raw)
    if _english_exact(raw, word) is not None:
        return False
    english = _typo_english(word)
    if raw in _STOP_ES:
        return english is None
    concepts = _ES_CONCEPTS.get(stem_es(raw))
    return concepts is not None and (english is None or not set(english[1:]) & set(concepts))


@functools.lru_cache(maxsize=1 << 16)
def _typo_spanish(raw: str) -> tuple[str, ...] | None:
    """The tokens of the Spanish word a folded word is a typo of, or None: () for filler ('nesesito').

    Spanish spelling slips are mostly letters that sound alike, so a word that sounds like a thesaurus
    word (5 letters or more) or a filler word (6 or more) is that word; one more edit is allowed from
    8 letters ('computadra'). Stricter than the English correction, which would catch English words.
    """
    if len(raw) < 5:
        return None
    key = sounds_es(raw)
    es = _ES_SOUNDS.get(key)
    if es is None and len(raw) >= 6 and key in _STOP_SOUNDS:
        return ()
    if es is None and len(key) >= 8:
        hit = process.extractOne(key, _ES_SOUND_KEYS, scorer=OSA.distance, score_cutoff=1)
        es = _ES_SOUNDS[hit[0]] if hit is not None else None
    return None if es is None else _ES_TOKENS[es]


def english_lookalikes(words) -> list[str]:
    """The words of an English word list that would make a text Spanish, or that a text which is not
    Spanish would read otherwise than before (what ENGLISH_LOOKALIKES holds), but SPANISH_ON_PURPOSE."""
    out = set()
    for w in words:
        for raw in _WORD.findall(fold(w)):
            if raw in STOPWORDS or len(raw) < 2 or raw in out or raw in SPANISH_ON_PURPOSE:
                continue
            if _spanish_word(raw) or _read_english(raw, frozenset()) != read_english_only(raw):
                out.add(raw)
    return sorted(out)
