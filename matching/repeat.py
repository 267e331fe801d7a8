"""Repeating needs (version 2): which offers serve which occurrences, standing lists, and stage B.

Each future occurrence of a need is evaluated as a version 1 need with that one window (same text,
place, duration, urgency and waiting time), against every offer within reach, so its feasibility
and score are exactly version 1's. An offer's `covers` are the occurrences it can serve; it is
standing when it covers all of them. The need's candidate score is the best occurrence's score,
i.e. version 1's score of the need with its future occurrences as windows.

Stage B (matching/v2.py calls `stage_b`): every repeating need with units left after stage A is
split into its future occurrences; occurrences are grouped by the date of their start (in their
own UTC offset), and each date is an independent transportation problem in which an offer has the
capacity stage A left it, and an (occurrence, offer) edge is worth the occurrence's score plus the
same-helper bonus 0.1 x coverage. All dates are solved in one call of the exact min-cost flow:
their offer nodes are (offer, date) pairs, so dates share no node and the flow decomposes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.assign import assign
from matching.engine import TOL_KM
from matching.geometry import _chord
from matching.model import Need

SAME_HELPER = 0.1   # the same-helper bonus is SAME_HELPER x coverage
CHUNK_PAIRS = 400_000  # (occurrence, offer) pairs evaluated at once (bounds memory)
PER_NEED = ("lat", "lon", "max_km", "qty", "urgency", "wait_days", "duration", "owner", "xyz")


@dataclass
class Cand:
    """One candidate of version 2 (indices, not ids): a repeating need's or a session's."""

    offer: int
    score: float
    distance: float
    overlap: int                       # seconds
    standing: bool | None = None       # repeating needs only
    covers: tuple[int, ...] = ()       # indices into need.occurrences, in order
    occ_scores: tuple[float, ...] = ()  # each covered occurrence's own score
    bonus: float = 0.0                 # SAME_HELPER x coverage, 6 decimals
    sessions: tuple[int, ...] = ()     # indices into offer.sessions that fit, by start (group offers only)

    def rank_key(self) -> tuple:
        """Standing first, then score + bonus best first, then the offer's input order."""
        return (not self.standing, -(round(self.score * 1e6) + round(self.bonus * 1e6)), self.offer)


def future_occurrences(need: Need, now: int) -> list[int]:
    """Indices of the occurrences that can still happen: at least duration_min of them lies after now."""
    dur = need.duration_min * 60.0
    return [j for j, o in enumerate(need.occurrences) if o.end_ts - max(o.start_ts, now) >= dur - 1e-6]


def bonus_of(covered: int, future: int) -> float:
    """The same-helper bonus of an offer covering `covered` of `future` occurrences (6 decimals)."""
    return round(SAME_HELPER * covered / future, 6) if future else 0.0


def occurrence_table(base: dict, row: int, ws: np.ndarray, we: np.ndarray) -> dict:
    """A need table (the engine's layout) with one row per window: row `row` of `base`, repeated."""
    m = len(ws)
    t = {key: np.repeat(base[key][row:row + 1], m, axis=0) for key in PER_NEED}
    t.update(flexible=np.zeros(m, dtype=bool), possible=np.ones(m, dtype=bool),
             w_ptr=np.arange(m + 1, dtype=np.int64), ws=np.asarray(ws, dtype=np.int64), we=np.asarray(we, dtype=np.int64))
    return t


def occurrence_pairs(engine, need: Need, table: dict, row: int, text_a, ta: int, o: dict, offers: np.ndarray,
                     avail, flex_best, text_b, tb, future: list[int]):
    """Every feasible (future occurrence, offer) pair of one need among `offers` (rows of table `o`).

    Returns arrays (occurrence position in `future`, offer row, score, distance km, overlap seconds),
    sorted by offer, then occurrence.
    """
    _, oj, d = engine._place(table, o, np.full(len(offers), row, dtype=np.int64), np.asarray(offers, dtype=np.int64))
    m = len(future)
    empty = (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),) * 2 + (np.zeros(0, dtype=np.int64),)
    if not len(oj) or not m:
        return empty
    occ = [need.occurrences[j] for j in future]
    t = occurrence_table(table, row, [max(x.start_ts, engine.now) for x in occ], [x.end_ts for x in occ])
    tas = np.full(m, ta, dtype=np.int64)
    parts = []
    step = max(1, CHUNK_PAIRS // m)
    for lo in range(0, len(oj), step):
        oc, dc = oj[lo:lo + step], d[lo:lo + step]
        ni, oo, dd = np.repeat(np.arange(m), len(oc)), np.tile(oc, m), np.tile(dc, m)
        overlap = engine._overlap(t, ni, oo, avail, flex_best)
        ok = overlap >= t["duration"][ni] - 1e-6
        p = engine._score(t, o, ni[ok], oo[ok], dd[ok], overlap[ok], text_a, tas, text_b, tb)
        parts.append((p.need, p.offer, p.score, p.distance, p.overlap))
    if not parts:
        return empty
    cols = [np.concatenate([p[i] for p in parts]) for i in range(5)]
    order = np.lexsort((cols[0], cols[1]))
    return tuple(c[order] for c in cols)


def group_by_offer(occ_pos, offer, score, dist, overlap, future: list[int], k: int | None = None) -> list[Cand]:
    """Per offer: a Cand with the occurrences it covers, their scores and its bonus; ranked
    (Cand.rank_key), the first k (all when k is None)."""
    if not len(offer):
        return []
    heads = np.r_[0, np.flatnonzero(np.diff(offer)) + 1]
    counts = np.diff(np.r_[heads, len(offer)])
    best, best_ov = np.maximum.reduceat(score, heads), np.maximum.reduceat(overlap, heads)
    m = len(future)
    bonus = {c: bonus_of(c, m) for c in np.unique(counts).tolist()}
    bonus_arr = np.array([bonus[c] for c in counts.tolist()])
    key = np.rint(best * 1e6).astype(np.int64) + np.rint(bonus_arr * 1e6).astype(np.int64)
    order = np.lexsort((offer[heads], -key, counts != m))[:k]
    out = []
    for g in order.tolist():
        a, b = heads[g], heads[g] + counts[g]
        out.append(Cand(int(offer[a]), float(best[g]), float(dist[a]), int(best_ov[g]), standing=bool(counts[g] == m),
                        covers=tuple(future[p] for p in occ_pos[a:b].tolist()), occ_scores=tuple(score[a:b].tolist()),
                        bonus=bonus[int(counts[g])]))
    return out


def repeating_candidates(engine, need: Need, table: dict, row: int, text_a, ta: int, k: int) -> list[Cand]:
    """The ranked list of one repeating need (row `row` of `table`): every offer within reach that
    serves at least one future occurrence is examined; standing ones first, then by score + bonus."""
    future = future_occurrences(need, engine.now)
    oi = engine.cat_offers.get(need.category)
    if not future or oi is None or not len(oi):
        return []
    reach = min(need.max_km if need.max_km is not None else np.inf, float(engine.o["radius"][oi].max())) + TOL_KM
    locs = np.asarray(engine._tree(need.category).query_ball_point(table["xyz"][row], r=_chord(reach)), dtype=np.int64)
    model = engine.models[need.category]
    cols = occurrence_pairs(engine, need, table, row, text_a, ta, engine.o, np.sort(oi[locs]), engine.avail,
                            engine.flex_best, model.matrix, engine.o_text, future)
    return group_by_offer(*cols, future, k)


def stage_b(engine, lists: dict[int, list[Cand]], left: dict[int, int], cap_left: np.ndarray):
    """Occurrence by occurrence, per date: returns (rows, date objectives).

    `lists`: need index -> its listed candidates; `left`: need index -> units stage A did not give;
    `cap_left`: per offer, its capacity minus the units stage A holds. Rows are
    (need index, occurrence index, offer, units, score, bonus), in need, occurrence, rank order.
    """
    needs = engine.instance.needs
    occ_nodes: list[tuple[int, int]] = []
    supply, dates = [], {}
    od_nodes: dict[tuple[int, str], int] = {}
    e_occ, e_od, e_score, e_bonus, e_rank = [], [], [], [], []
    for i in sorted(left):
        if left[i] <= 0:
            continue
        need = needs[i]
        node_of = {}
        for j in future_occurrences(need, engine.now):
            node_of[j] = len(occ_nodes)
            occ_nodes.append((i, j))
            supply.append(left[i])
            dates.setdefault(need.occurrences[j].date, 0.0)
        for rank, c in enumerate(lists.get(i, ())):
            if cap_left[c.offer] <= 0:
                continue
            for j, s in zip(c.covers, c.occ_scores):
                key = (c.offer, need.occurrences[j].date)
                od = od_nodes.setdefault(key, len(od_nodes))
                e_occ.append(node_of[j]), e_od.append(od), e_score.append(s), e_bonus.append(c.bonus), e_rank.append(rank)
    if not e_occ:
        return [], {d: 0.0 for d in sorted(dates)}
    caps = np.zeros(len(od_nodes), dtype=np.int64)
    for (offer, _date), od in od_nodes.items():
        caps[od] = cap_left[offer]
    e_occ, e_od = np.asarray(e_occ, dtype=np.int64), np.asarray(e_od, dtype=np.int64)
    score, bonus = np.asarray(e_score), np.asarray(e_bonus)
    units = assign(e_occ, e_od, score + bonus, np.asarray(supply, dtype=np.int64), caps)
    od_offer = {od: offer for (offer, _date), od in od_nodes.items()}
    rows = []
    for k in np.flatnonzero(units > 0):
        i, j = occ_nodes[e_occ[k]]
        rows.append((i, j, e_rank[k], od_offer[int(e_od[k])], int(units[k]), float(score[k]), float(bonus[k])))
        dates[needs[i].occurrences[j].date] += int(units[k]) * (float(score[k]) + float(bonus[k]))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return [(i, j, o, u, s, b) for i, j, _r, o, u, s, b in rows], {d: round(v, 6) for d, v in sorted(dates.items())}
