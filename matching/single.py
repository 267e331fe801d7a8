"""Version 1's single-post calls: rank the offers for one new need, or the needs for one new
offer, against an Engine already built over the open posts (no rebuild; see engine.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from matching.engine import POOL, TOL_KM, _text_of
from matching.geometry import _chord
from matching.model import Candidate, Need, Offer
from matching.reasons import phrase
from matching.timeplan import FLEX_SECONDS, Availability

if TYPE_CHECKING:
    from matching.engine import Engine


def _candidate(engine: Engine, need: Need, offer: Offer, text: str | None, score, distance, overlap) -> Candidate:
    codes = tuple(engine.reason_codes_for(need, offer, text, float(distance), int(overlap)))
    return Candidate(need.id, offer.id, float(score), round(float(distance), 2), int(overlap // 60),
                     tuple(phrase(c) for c in codes), codes)


def for_need(engine: Engine, need: Need, k: int) -> list[Candidate]:
    """The offers for one need, best first (offers with sessions never fit here)."""
    oi = engine.cat_offers.get(need.category)
    if oi is None or not len(oi):
        return []
    table = engine._need_table([need])
    model = engine.models[need.category]
    tree = engine._tree(need.category)
    reach = min(need.max_km if need.max_km is not None else np.inf, float(engine.o["radius"][oi].max())) + TOL_KM
    pool = min(POOL * 4, len(oi))
    _dist, loc = tree.query(table["xyz"][0], k=pool, distance_upper_bound=_chord(reach))
    loc = np.atleast_1d(loc)
    locs = loc[loc < len(oi)]
    vec = model.vectors_for([_text_of(need)])
    zero = np.zeros(1, dtype=np.int64)

    def run(locs):
        p = engine._evaluate(table, engine.o, np.zeros(len(locs), dtype=np.int64), oi[locs], engine.avail,
                             engine.flex_best, vec, zero, model.matrix, engine.o_text)
        return engine._top_k(p, k, p.need)

    found = run(locs)
    if len(found.need) < k and len(locs) == pool and pool < len(oi):
        found = run(np.asarray(tree.query_ball_point(table["xyz"][0], r=_chord(reach)), dtype=np.int64))
    offers = engine.instance.offers
    return [_candidate(engine, need, offers[j], _text_of(offers[j]), s, d, ov)
            for j, s, d, ov in zip(found.offer, found.score, found.distance, found.overlap)]


def for_offer(engine: Engine, offer: Offer, k: int) -> list[Candidate]:
    """The needs for one offer, best first (a repeating need's windows are its occurrences)."""
    ni = engine.cat_needs.get(offer.category)
    if ni is None or not len(ni):
        return []
    if offer.category not in engine._need_trees:
        engine._need_trees[offer.category] = cKDTree(engine.n["xyz"][ni])
    tree = engine._need_trees[offer.category]
    table = engine._offer_table([offer])
    locs = np.asarray(tree.query_ball_point(table["xyz"][0], r=_chord(offer.radius_km + TOL_KM)), dtype=np.int64)
    avail = Availability.build([offer], engine.horizon)
    flex_best = avail.longest_within(engine.now, engine.now + FLEX_SECONDS)
    model = engine.models[offer.category]
    vec = model.vectors_for([_text_of(offer)])
    p = engine._evaluate(engine.n, table, ni[locs], np.zeros(len(locs), dtype=np.int64), avail, flex_best,
                         model.matrix, engine.n_text, vec, np.zeros(1, dtype=np.int64))
    p = engine._top_k(p, k, p.offer)
    needs = engine.instance.needs
    return [_candidate(engine, needs[i], offer, None, s, d, ov)
            for i, s, d, ov in zip(p.need, p.score, p.distance, p.overlap)]
