"""The matching engine: needs and offers in (format mutual-aid-matching/1 or /2), ranked candidates
and an optimal capacity-respecting assignment out. Plain Python with numpy, scipy, rapidfuzz and
OR-Tools; it imports nothing from the web app, Flask or SQLAlchemy. docs/matching-format.md is the spec.

    from matching import parse_instance, solve
    result = solve(parse_instance(json.load(open("in.json"))))

`Engine(instance).candidates_for_need(need)` / `.candidates_for_offer(offer)` rank one new post
against the open posts without rebuilding anything. Version 2 adds repeating needs
(`Need.occurrences`, a tuple of `Occurrence`) and group offers (`Offer.sessions`, a tuple of
`Session`); `solve` solves an instance that uses them (or says format 2) as version 2 (matching/v2.py).
Version 2's hard exclusions (`Instance.exclude_owners`, `.exclude_pairs`, `Need.requires`,
`Offer.provides`; matching/exclusions.py) hold in every list, both stages and the single-post calls.
"""
from __future__ import annotations

import numpy as np

from matching.reasons import as_json, phrase
from matching.engine import Engine, Pairs
from matching.model import (FORMAT, FORMAT_V2, Assignment, Candidate, Instance, InstanceError, Need, Occurrence, Offer,
                            Result, Session, WeeklySlot, Window, parse_instance, parse_need, parse_offer)

__all__ = ["FORMAT", "FORMAT_V2", "Assignment", "Candidate", "Engine", "Instance", "InstanceError", "Need", "Occurrence",
           "Offer", "Result", "Session", "WeeklySlot", "Window", "parse_instance", "parse_need", "parse_offer", "solve",
           "solve_document", "to_document"]


def solve(instance: Instance) -> Result:
    """Rank candidates for every need and choose the assignment maximising sum(units x score).

    An instance in format 2, or with repeating needs or group offers, is solved as version 2:
    stage A (one-off needs, standing candidates and sessions) then stage B (occurrences by date).
    """
    from matching.v2 import solve_v2, uses_v2

    if uses_v2(instance):
        return solve_v2(instance)
    engine = Engine(instance)
    pairs, units = engine.solve()
    return _result(engine, pairs, units)


def solve_document(doc: dict) -> dict:
    """Parse an input document (version 1 or 2), solve it, and return the output document of its version."""
    instance = parse_instance(doc)
    if instance.format == FORMAT_V2:
        from matching import v2

        return v2.to_document(v2.plan(instance), reason_codes=doc.get("reason_codes") is True)
    engine = Engine(instance)
    pairs, units = engine.solve()
    return to_document(engine, pairs, units, reason_codes=doc.get("reason_codes") is True)


def _rows(engine: Engine, pairs: Pairs):
    """Per need in input order: (need, [(offer, score, km, overlap_min, reasons, reason codes)...]).

    Reasons are assembled from cached phrases (one per text pair, distance, overlap and need), so
    building the output stays cheap per candidate.
    """
    needs, offers = engine.instance.needs, engine.instance.offers
    text_cache: dict[tuple, tuple] = {}  # -> (code, phrase)
    phrase_cache: dict[tuple, tuple] = {}  # -> (codes, phrases)
    bounds = np.searchsorted(pairs.need, np.arange(len(needs) + 1))
    offer_ids = [o.id for o in offers]
    scores, dists, overlaps, offer_idx = pairs.score.tolist(), np.round(pairs.distance, 2).tolist(), pairs.overlap.tolist(), pairs.offer.tolist()
    for i, need in enumerate(needs):
        out = []
        tail_codes = engine.need_codes(need)
        tail = [phrase(c) for c in tail_codes]
        for k in range(bounds[i], bounds[i + 1]):
            j = offer_idx[k]
            key = (need.category, int(engine.n_text[i]), int(engine.o_text[j]))
            text = text_cache.get(key)
            if text is None:
                code = engine.text_code(need, offers[j])
                text = text_cache[key] = (code, phrase(code))
            d, ov = dists[k], overlaps[k]
            pkey = (round(d) if d >= 1 else -1, ov // 60, bool(need.when), bool(offers[j].when or offers[j].weekly))
            middle = phrase_cache.get(pkey)
            if middle is None:
                codes = engine.place_time_codes(need, offers[j], d, ov)
                middle = phrase_cache[pkey] = (codes, [phrase(c) for c in codes])
            out.append((offer_ids[j], scores[k], d, ov // 60, [text[1], *middle[1], *tail],
                        (text[0], *middle[0], *tail_codes)))
        yield need, out


def _assigned(engine: Engine, pairs: Pairs, units: np.ndarray):
    needs, offers = engine.instance.needs, engine.instance.offers
    rows = [(needs[pairs.need[k]].id, offers[pairs.offer[k]].id, int(units[k]), float(pairs.score[k]))
            for k in np.flatnonzero(units > 0)]
    objective = round(float(sum(u * s for _n, _o, u, s in rows)), 6)
    return rows, objective


def to_document(engine: Engine, pairs: Pairs, units: np.ndarray, reason_codes: bool = False) -> dict:
    """The output document: candidates per need (in input order), assignment and objective; with
    `reason_codes` (the input's optional `"reason_codes": true`) each candidate also carries them."""
    def row(o, s, d, m, r, codes):
        out = {"offer": o, "score": s, "distance_km": d, "overlap_min": m, "reasons": r}
        if reason_codes:
            out["reason_codes"] = as_json(codes)
        return out

    candidates = {need.id: [row(*r) for r in rows] for need, rows in _rows(engine, pairs)}
    rows, objective = _assigned(engine, pairs, units)
    return {"format": FORMAT, "candidates": candidates,
            "assignment": [{"need": n, "offer": o, "units": u, "score": s} for n, o, u, s in rows],
            "objective": objective}


def _result(engine: Engine, pairs: Pairs, units: np.ndarray) -> Result:
    candidates = {need.id: tuple(Candidate(need.id, o, s, d, m, tuple(r), tuple(codes)) for o, s, d, m, r, codes in rows)
                  for need, rows in _rows(engine, pairs)}
    rows, objective = _assigned(engine, pairs, units)
    return Result(candidates, tuple(Assignment(n, o, u, s) for n, o, u, s in rows), objective)
