"""Group offers (version 2): which sessions a one-off need can join, and the pairs' scores.

A session fits a need when it starts at or after `now` and lies wholly inside one of the need's
windows (a flexible need: it ends within the next 14 days); the need's duration_min plays no part
(the session is the help). A (need, group offer) pair is a candidate when the posts pass version 1's
place rules (category, both radii, owners) and at least one session fits. The candidate shows the
earliest fitting session, and its score is version 1's with that session's length as the overlap;
every fitting session of the offer is an option for the assignment at that score.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from matching.geometry import _chord
from matching.engine import TOL_KM
from matching.repeat import Cand
from matching.timeplan import FLEX_SECONDS, expand_ranges


class SessionIndex:
    """The future sessions of some offers, sorted by (offer row, start, input order)."""

    def __init__(self, offers, now: int):
        rows = [(j, s.start_ts, q, s.end_ts, s.places) for j, offer in enumerate(offers)
                for q, s in enumerate(offer.sessions) if s.start_ts >= now]
        rows.sort()
        cols = list(zip(*rows)) if rows else [(), (), (), (), ()]
        self.offer, self.start, self.local, self.end, self.places = (np.asarray(c, dtype=np.int64) for c in cols)
        self.n_offers = len(offers)
        self.ptr = np.searchsorted(self.offer, np.arange(len(offers) + 1))
        self.offers = np.unique(self.offer)  # offer rows that have a future session
        self._rows = {(int(j), int(q)): r for r, (j, q) in enumerate(zip(self.offer.tolist(), self.local.tolist()))}

    def row_of(self, offer: int, local: int) -> int:
        """The index position of session `local` (its place in offer.sessions) of offer row `offer`."""
        return self._rows[(offer, local)]

    def bounds(self, offer_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per offer row, its sessions' [lo, hi) range in the index."""
        return self.ptr[offer_rows], self.ptr[offer_rows + 1]


def session_pairs(engine, n: dict, o: dict, index: SessionIndex, ni: np.ndarray, oj: np.ndarray,
                  text_a, ta, text_b, tb) -> tuple:
    """Feasible (need row, group offer row) pairs among the given ones, as (Pairs, fitting sessions).

    The fitting sessions of each pair are their positions in the index, earliest first.
    """
    ni, oj, d = engine._place(n, o, np.asarray(ni, dtype=np.int64), np.asarray(oj, dtype=np.int64))
    lo, hi = index.bounds(oj)
    rep, srow = expand_ranges(lo, hi - lo)
    s0, s1, pn = index.start[srow], index.end[srow], ni[rep]
    ok = np.zeros(len(rep), dtype=bool)
    flex = n["flexible"][pn]
    ok[flex] = s1[flex] <= engine.now + FLEX_SECONDS
    rows = np.flatnonzero(~flex)
    if len(rows):
        ptr = n["w_ptr"]
        rep2, w = expand_ranges(ptr[pn[rows]], ptr[pn[rows] + 1] - ptr[pn[rows]])
        fit = (n["ws"][w] <= s0[rows][rep2]) & (s1[rows][rep2] <= n["we"][w])
        ok[rows] = np.bincount(rep2[fit], minlength=len(rows)) > 0
    rep, srow = rep[ok], srow[ok]
    has = np.zeros(len(ni), dtype=bool)
    has[rep] = True
    first = np.full(len(ni), -1, dtype=np.int64)
    if len(rep):
        heads = np.r_[0, np.flatnonzero(np.diff(rep)) + 1]
        first[rep[heads]] = srow[heads]
    keep = np.flatnonzero(has)
    overlap = index.end[first[keep]] - index.start[first[keep]]
    pairs = engine._score(n, o, ni[keep], oj[keep], d[keep], overlap, text_a, ta, text_b, tb)
    fitting = np.split(srow, np.flatnonzero(np.diff(rep)) + 1) if len(rep) else []
    return pairs, fitting


def to_cands(pairs, fitting, index: SessionIndex) -> list[tuple[int, Cand]]:
    """(need row, Cand) per feasible pair, the Cand naming its fitting sessions by input position."""
    return [(int(i), Cand(int(j), float(s), float(dd), int(ov), sessions=tuple(index.local[f].tolist())))
            for i, j, s, dd, ov, f in zip(pairs.need, pairs.offer, pairs.score, pairs.distance, pairs.overlap, fitting)]


def top_k(pairs, fitting: list, k: int, by_offer: bool = True):
    """Each need's (by_offer) or offer's k best pairs: score best first, then the other side's order."""
    key, other = (pairs.need, pairs.offer) if by_offer else (pairs.offer, pairs.need)
    order = np.lexsort((other, -pairs.score, key))
    key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(key)) + 1] if len(key) else np.zeros(0, dtype=np.int64)
    rank = np.arange(len(key)) - np.repeat(starts, np.diff(np.r_[starts, len(key)]))
    keep = order[rank < k]
    return pairs.take(keep), [fitting[i] for i in keep.tolist()]


def engine_session_candidates(engine, index: SessionIndex, need_rows: np.ndarray, k: int) -> dict[int, list[Cand]]:
    """The k best fitting group offers of each of the engine's one-off needs `need_rows`, per need row."""
    out: dict[int, list[Cand]] = {}
    if not len(index.offers):
        return out
    cat = np.array([engine.instance.offers[j].category for j in index.offers], dtype=object)
    n_cat = np.array([engine.instance.needs[i].category for i in need_rows], dtype=object)
    for c in sorted(set(cat.tolist())):
        so = index.offers[cat == c]
        rows = np.asarray(need_rows, dtype=np.int64)[n_cat == c]
        if not len(rows):
            continue
        reach = np.fmin(engine.n["max_km"][rows], engine.o["radius"][so].max()) + TOL_KM
        lists = cKDTree(engine.o["xyz"][so]).query_ball_point(engine.n["xyz"][rows], r=[_chord(r) for r in reach])
        lens = np.array([len(x) for x in lists], dtype=np.int64)
        if not lens.sum():
            continue
        ni = np.repeat(rows, lens)
        oj = so[np.concatenate([np.sort(np.asarray(x, dtype=np.int64)) for x in lists if len(x)])]
        model = engine.models[c]
        pairs, fitting = session_pairs(engine, engine.n, engine.o, index, ni, oj, model.matrix, engine.n_text,
                                       model.matrix, engine.o_text)
        pairs, fitting = top_k(pairs, fitting, k)
        for i, cand in to_cands(pairs, fitting, index):
            out.setdefault(i, []).append(cand)
    return out
