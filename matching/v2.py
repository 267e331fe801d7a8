"""Version 2 of the whole problem: candidates, stage A (standing) and stage B (by occurrence).

Stage A is version 1's transportation problem with two kinds of extra edges: a repeating need's
standing candidates (the need is one demand of `quantity` units) and group offers' sessions
(need -> session -> offer, so a session's places and the offer's capacity both hold). It is solved
exactly, as version 1 (matching/assign.py) when it has no sessions and as a general min-cost flow
(matching/flow.py) when it has. Stage B then places, date by date, the occurrences of the repeating
needs stage A left with units (matching/repeat.py). "Optimal" is lexicographic: stage A's optimum,
then each date's optimum given stage A (docs/matching-format.md).

A version 1 instance (no occurrences, no sessions) goes through exactly version 1's code, so a
version 1 document relabelled as version 2 gets the same candidates and assignment.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from matching.assign import assign
from matching.engine import Engine, Pairs, _text_of
from matching.flow import max_weight_flow
from matching.model import FORMAT_V2, Assignment, Candidate, Instance, Need, Offer, Result
from matching.reasons import as_json, phrase
from matching.repeat import Cand, future_occurrences, occurrence_pairs, repeating_candidates, stage_b
from matching.sessions import SessionIndex, engine_session_candidates, session_pairs, to_cands
from matching.timeplan import FLEX_SECONDS, Availability


@dataclass
class Plan:
    """Everything solved, by index: the lists, both stages' edges and units (tests read the edges)."""

    engine: Engine
    pairs: Pairs                                   # version 1 candidates of one-off needs that stay listed
    lists: dict[int, list[Cand]]                   # repeating needs' lists; one-off needs' session candidates
    stage_a: list[tuple] = field(default_factory=list)  # (need, offer, session position | None, units, score, standing)
    stage_a_edges: tuple = ()                      # (need, offer, session row | -1, score) arrays, for tests
    stage_b: list[tuple] = field(default_factory=list)  # (need, occurrence, offer, units, score, bonus)
    objective: float = 0.0
    date_objectives: dict[str, float] = field(default_factory=dict)


def uses_v2(instance: Instance) -> bool:
    """Whether the instance is version 2 or uses one of its features (then `matching.solve` solves it as such):
    occurrences, sessions, exclusions or requirements."""
    from matching.exclusions import uses_exclusions

    return (instance.format == FORMAT_V2 or any(n.occurrences for n in instance.needs)
            or any(o.sessions for o in instance.offers) or uses_exclusions(instance))


def plan(instance: Instance) -> Plan:
    """Solve a version 2 instance: candidates, then stage A, then stage B."""
    engine = Engine(instance)
    k, needs = instance.top_k, instance.needs
    repeating = np.array([bool(n.occurrences) for n in needs], dtype=bool)
    full = engine.cat_needs
    # Version 1's lists for the one-off needs only (a need's list does not depend on the other needs).
    engine.cat_needs = {c: ni[~repeating[ni]] for c, ni in full.items()}
    try:
        pairs = engine.candidates()
    finally:
        engine.cat_needs = full
    pairs = pairs.take(np.lexsort((pairs.offer, -pairs.score, pairs.need)))
    lists: dict[int, list[Cand]] = {}
    if repeating.any():
        for i in np.flatnonzero(repeating):
            model = engine.models[needs[i].category]
            lists[int(i)] = repeating_candidates(engine, needs[i], engine.n, int(i), model.matrix, int(engine.n_text[i]), k)
    index = None
    if engine.uses_v2()[1]:
        index = _session_index(engine)
        sess = engine_session_candidates(engine, index, np.flatnonzero(~repeating), k)
        pairs = _merge_sessions(pairs, sess, lists, k, len(needs))
    result = Plan(engine, pairs, lists)
    _stage_a(result, repeating, index)
    held = np.bincount(np.asarray([r[1] for r in result.stage_a], dtype=np.int64),
                       weights=np.asarray([r[3] for r in result.stage_a], dtype=float), minlength=len(instance.offers))
    cap_left = engine.o["cap"] - np.rint(held).astype(np.int64)
    standing_units: dict[int, int] = {}
    for i, _j, _q, u, _s, standing in result.stage_a:
        if standing:
            standing_units[i] = standing_units.get(i, 0) + u
    left = {int(i): needs[i].quantity - standing_units.get(int(i), 0) for i in np.flatnonzero(repeating)}
    result.stage_b, result.date_objectives = stage_b(engine, lists, left, cap_left)
    return result


def _session_index(engine: Engine) -> SessionIndex:
    if getattr(engine, "_session_index", None) is None:
        engine._session_index = SessionIndex(engine.instance.offers, engine.now)
    return engine._session_index


def _merge_sessions(pairs: Pairs, sess: dict[int, list[Cand]], lists: dict, k: int, n_needs: int) -> Pairs:
    """Each one-off need keeps its top k of version 1 candidates and session candidates together
    (score best first, then offer input order); returns the version 1 pairs that stay listed."""
    drop = np.zeros(len(pairs.need), dtype=bool)
    bounds = np.searchsorted(pairs.need, np.arange(n_needs + 1))
    for i, cands in sess.items():
        lo, hi = bounds[i], bounds[i + 1]
        rows = [(-round(float(pairs.score[r]) * 1e6), int(pairs.offer[r]), r, None) for r in range(lo, hi)]
        rows += [(-round(c.score * 1e6), c.offer, -1, c) for c in cands]
        rows.sort(key=lambda x: (x[0], x[1]))
        kept = rows[:k]
        lists[i] = [c for _s, _o, _r, c in kept if c is not None]
        for _s, _o, r, c in rows[k:]:
            if c is None:
                drop[r] = True
    return pairs.take(~drop)


def _stage_a(result: Plan, repeating: np.ndarray, index: SessionIndex | None) -> None:
    engine, pairs, lists = result.engine, result.pairs, result.lists
    e_need, e_offer, e_score = [pairs.need], [pairs.offer], [pairs.score]
    standing = [(i, c) for i in sorted(lists) if repeating[i] for c in lists[i] if c.standing]
    e_need.append(np.asarray([i for i, _c in standing], dtype=np.int64))
    e_offer.append(np.asarray([c.offer for _i, c in standing], dtype=np.int64))
    e_score.append(np.asarray([c.score for _i, c in standing], dtype=float))
    need, offer, score = (np.concatenate(x) for x in (e_need, e_offer, e_score))
    sess = [(i, c, q) for i in sorted(lists) if not repeating[i] for c in lists[i] for q in c.sessions]
    n_std = len(standing)
    if not sess:
        units = assign(need, offer, score, engine.n["qty"], engine.o["cap"])
        result.stage_a_edges = (need, offer, np.full(len(need), -1), score)
        srow = np.full(len(need), -1)
    else:
        units, srow, need, offer, score = _with_sessions(engine, index, need, offer, score, sess)
        result.stage_a_edges = (need, offer, srow, score)
    n_pairs = len(pairs.need)
    rows = []
    for e in np.flatnonzero(units > 0):
        i, j = int(need[e]), int(offer[e])
        q = int(index.local[srow[e]]) if srow[e] >= 0 else None
        rows.append((i, j, q, int(units[e]), float(score[e]), n_pairs <= e < n_pairs + n_std))
    result.stage_a = rows
    result.objective = round(float(sum(u * s for _i, _j, _q, u, s, _st in rows)), 6)


def _with_sessions(engine, index, need, offer, score, sess):
    """Stage A as a general flow: nodes are needs, offers and sessions; returns units per edge."""
    n_n, n_o = len(engine.instance.needs), len(engine.instance.offers)
    s_rows = np.asarray([index.row_of(c.offer, q) for _i, c, q in sess], dtype=np.int64)
    s_need = np.asarray([i for i, _c, _q in sess], dtype=np.int64)
    s_offer = np.asarray([c.offer for _i, c, _q in sess], dtype=np.int64)
    s_score = np.asarray([c.score for _i, c, _q in sess], dtype=float)
    qty, cap = engine.n["qty"], engine.o["cap"]
    used = np.unique(s_rows)
    tails = np.concatenate([need, s_need, n_n + n_o + used])
    heads = np.concatenate([n_n + offer, n_n + n_o + s_rows, n_n + index.offer[used]])
    caps = np.concatenate([np.minimum(qty[need], cap[offer]), np.minimum(qty[s_need], index.places[s_rows]),
                           index.places[used]])
    gains = np.concatenate([np.rint(score * 1e6), np.rint(s_score * 1e6), np.zeros(len(used))]).astype(np.int64)
    size = n_n + n_o + len(index.offer)
    supply = np.zeros(size, dtype=np.int64)
    supply[:n_n] = qty
    sink = np.zeros(size, dtype=np.int64)
    sink[n_n:n_n + n_o] = cap
    flows = max_weight_flow(size, supply, sink, tails, heads, caps, gains)
    m = len(need) + len(sess)
    srow = np.concatenate([np.full(len(need), -1), s_rows])
    return (flows[:m], srow, np.concatenate([need, s_need]), np.concatenate([offer, s_offer]),
            np.concatenate([score, s_score]))


# Results ---------------------------------------------------------------------------------------

def _offer_index(engine: Engine) -> dict[str, int]:
    if getattr(engine, "_offer_index", None) is None:
        engine._offer_index = {o.id: j for j, o in enumerate(engine.instance.offers)}
    return engine._offer_index


def _candidate(engine: Engine, need: Need, offer: Offer, c: Cand, distance: float) -> Candidate:
    """A Cand as the public Candidate, with its reasons (version 1's codes and phrases)."""
    codes = tuple(engine.reason_codes_for(need, offer, None, distance, c.overlap))
    repeating = c.standing is not None
    return Candidate(need.id, offer.id, c.score, float(np.round(c.distance, 2)), c.overlap // 60,
                     tuple(phrase(x) for x in codes), codes, standing=c.standing,
                     covers=tuple(need.occurrences[j].id for j in c.covers) if repeating else (),
                     session=offer.sessions[c.sessions[0]].id if c.sessions else None,
                     sessions=tuple(offer.sessions[q].id for q in c.sessions))


def _by_score(engine: Engine, cands: list[Candidate], k: int) -> list[Candidate]:
    """Best score first, then the offer's input order; the first k."""
    index = _offer_index(engine)
    return sorted(cands, key=lambda c: (-round(c.score * 1e6), index[c.offer]))[:k]


def _lists(p: Plan):
    """Per need (input order): (need, version 1 rows, None) for a need without version 2
    candidates (rows as `matching._rows` gives them), else (need, None, its Candidates)."""
    from matching import _rows

    engine = p.engine
    offers = engine.instance.offers
    for i, (need, rows) in enumerate(_rows(engine, p.pairs)):
        extra = p.lists.get(i)
        if extra is None:
            yield need, rows, None
            continue
        mine = [_candidate(engine, need, offers[c.offer], c, float(np.round(c.distance, 2))) for c in extra]
        if not need.occurrences:
            mine = _by_score(engine, [Candidate(need.id, *r[:4], tuple(r[4]), tuple(r[5])) for r in rows] + mine, len(rows) + len(mine))
        yield need, None, mine


def _assignment(p: Plan) -> list[Assignment]:
    """The assignment rows in output order: by need, stage A by rank (and session start), then stage B."""
    needs, offers = p.engine.instance.needs, p.engine.instance.offers
    rows = []
    for i, j, q, u, s, standing in p.stage_a:
        session = offers[j].sessions[q] if q is not None else None
        key = (i, 0, 0, -round(s * 1e6), j, (session.start_ts, q) if session else (0, 0))
        rows.append((key, Assignment(needs[i].id, offers[j].id, u, s, standing=standing,
                                     session=session.id if session else None)))
    for seq, (i, occ, j, u, s, b) in enumerate(p.stage_b):
        rows.append(((i, 1, occ, seq), Assignment(needs[i].id, offers[j].id, u, s, occurrence=needs[i].occurrences[occ].id,
                                                   bonus=b)))
    rows.sort(key=lambda r: r[0])
    return [a for _k, a in rows]


def to_result(p: Plan) -> Result:
    """The public Result of a plan: candidates per need (input order), assignment rows, objectives."""
    candidates = {}
    for need, rows, cands in _lists(p):
        candidates[need.id] = tuple(cands) if rows is None else tuple(
            Candidate(need.id, o, s, d, m, tuple(r), tuple(codes)) for o, s, d, m, r, codes in rows)
    return Result(candidates, tuple(_assignment(p)), p.objective, dict(p.date_objectives), format=FORMAT_V2)


def to_document(p: Plan, reason_codes: bool = False) -> dict:
    """The version 2 output document of a plan (the same as `result_to_dict(to_result(p))`, built directly)."""
    from matching.model_v2 import assignment_dict, candidate_dict

    candidates = {}
    for need, rows, cands in _lists(p):
        if rows is None:
            candidates[need.id] = [candidate_dict(c, reason_codes) for c in cands]
        elif reason_codes:
            candidates[need.id] = [{"offer": o, "score": s, "distance_km": d, "overlap_min": m, "reasons": r,
                                    "reason_codes": as_json(codes)} for o, s, d, m, r, codes in rows]
        else:
            candidates[need.id] = [{"offer": o, "score": s, "distance_km": d, "overlap_min": m, "reasons": r}
                                   for o, s, d, m, r, _codes in rows]
    return {"format": FORMAT_V2, "candidates": candidates, "assignment": [assignment_dict(a) for a in _assignment(p)],
            "objective": p.objective, "date_objectives": dict(p.date_objectives)}


def solve_v2(instance: Instance) -> Result:
    """Solve an instance as version 2 (see the module docstring) and return its Result."""
    return to_result(plan(instance))


# One new post ------------------------------------------------------------------------------------

def candidates_for_need(engine: Engine, need: Need, k: int) -> list[Candidate]:
    """Version 2's ranked list for one new need: a repeating need's (standing first, with covers),
    or a one-off need's version 1 list merged with its fitting group offers."""
    model = engine.models.get(need.category)
    if model is None:
        return []
    table, vec = engine._need_table([need]), model.vectors_for([_text_of(need)])
    if need.occurrences:
        cands = repeating_candidates(engine, need, table, 0, vec, 0, k)
        return [_candidate(engine, need, engine.instance.offers[c.offer], c, c.distance) for c in cands]
    plain = engine.plain_candidates_for_need(need, k)
    index = _session_index(engine)
    so = index.offers[[engine.instance.offers[j].category == need.category for j in index.offers]] \
        if len(index.offers) else index.offers
    if not len(so):
        return plain
    pairs, fitting = session_pairs(engine, table, engine.o, index, np.zeros(len(so), dtype=np.int64), so,
                                   vec, np.zeros(1, dtype=np.int64), model.matrix, engine.o_text)
    mine = [_candidate(engine, need, engine.instance.offers[c.offer], c, c.distance) for _i, c in to_cands(pairs, fitting, index)]
    return _by_score(engine, plain + mine, k)


def candidates_for_offer(engine: Engine, offer: Offer, k: int) -> list[Candidate]:
    """Version 2's ranked needs for one new offer (best score first, then the needs' input order):
    a group offer's fitting one-off needs, each with its sessions; or version 1's list, in which a
    repeating need's entry says whether the offer is standing for it and which occurrences it covers."""
    model = engine.models.get(offer.category)
    ni = engine.cat_needs.get(offer.category)
    if model is None or ni is None or not len(ni):
        return []
    needs, vec, o_table = engine.instance.needs, model.vectors_for([_text_of(offer)]), engine._offer_table([offer])
    if offer.sessions:
        ni = np.asarray([i for i in ni if not needs[i].occurrences], dtype=np.int64)
        index = SessionIndex([offer], engine.now)
        pairs, fitting = session_pairs(engine, engine.n, o_table, index, ni, np.zeros(len(ni), dtype=np.int64),
                                       model.matrix, engine.n_text, vec, np.zeros(1, dtype=np.int64))
        found = sorted(to_cands(pairs, fitting, index), key=lambda x: (-round(x[1].score * 1e6), x[0]))[:k]
        return [_candidate(engine, needs[i], offer, c, c.distance) for i, c in found]
    plain = engine.plain_candidates_for_offer(offer, k)
    if not any(needs[_need_index(engine)[c.need]].occurrences for c in plain):
        return plain
    avail = Availability.build([offer], engine.horizon)
    flex_best = avail.longest_within(engine.now, engine.now + FLEX_SECONDS)
    out = []
    for c in plain:
        i = _need_index(engine)[c.need]
        need = needs[i]
        if not need.occurrences:
            out.append(c)
            continue
        future = future_occurrences(need, engine.now)
        occ_pos = occurrence_pairs(engine, need, engine.n, i, model.matrix, int(engine.n_text[i]), o_table,
                                   np.zeros(1, dtype=np.int64), avail, flex_best, vec, np.zeros(1, dtype=np.int64), future)[0]
        covers = tuple(need.occurrences[future[p]].id for p in occ_pos.tolist())
        out.append(replace(c, standing=len(covers) == len(future), covers=covers))
    return out


def _need_index(engine: Engine) -> dict[str, int]:
    if getattr(engine, "_need_index", None) is None:
        engine._need_index = {n.id: i for i, n in enumerate(engine.instance.needs)}
    return engine._need_index
