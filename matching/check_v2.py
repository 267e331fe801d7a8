"""An independent checker of version 2 solutions (docs/matching-format.md), sharing no code with the engine.

Feasibility is re-derived with plain datetime arithmetic (matching/check.py's Rules for the offer's
free time): every listed pair, every `covers` list (exactly the future occurrences the offer can
serve), `standing` (covers every future occurrence), every session list, and that no listed or
assigned pair is excluded (`exclude_owners`, `exclude_pairs`, or `requires` not within `provides`);
recall is checked by brute force for a sample of needs. The assignment must use listed pairs only
and respect quantities, offers' capacities, sessions' places, and, per date, what stage A left of
each offer's capacity.
Stage A's objective is compared with an LP over the listed edges (scipy's HiGHS). Slow by design.
"""
from __future__ import annotations

import math
import random
from datetime import datetime

import numpy as np

from matching.check import Report, Rules, _ts, haversine

FLEX = 14 * 86400


class Rules2(Rules):
    """Version 1's rules plus occurrences and sessions."""

    def __init__(self, doc: dict):
        super().__init__(doc)
        ends = [_ts(o["end"]) for n in doc["needs"] for o in n.get("occurrences") or []]
        self.until = max([self.until] + ends)

    def place(self, nid: str, oid: str) -> bool:
        """Version 1's rules without time: category, owners, both radii."""
        n, o = self.needs[nid], self.offers[oid]
        if n["category"] != o["category"] or (n.get("owner") and o.get("owner") and n["owner"] == o["owner"]):
            return False
        if self.excluded(nid, oid):
            return False
        d = haversine(n["lat"], n["lon"], o["lat"], o["lon"])
        return d <= o["radius_km"] + 1e-3 and (n.get("max_km") is None or d <= n["max_km"] + 1e-3)

    def duration(self, nid: str) -> float:
        """The need's duration in seconds."""
        return 60 * float(self.needs[nid].get("duration_min") or 60)

    def future(self, nid: str) -> list[dict]:
        """The need's occurrences with at least duration_min left after now."""
        dur = self.duration(nid)
        return [o for o in self.needs[nid].get("occurrences") or [] if _ts(o["end"]) - max(_ts(o["start"]), self.now) >= dur - 1e-6]

    def free_in(self, oid: str, ws: float, we: float) -> float:
        """The longest stretch (seconds) the offer is free inside [ws, we]."""
        spans = self.spans(oid)
        if spans is None:
            return we - ws
        return max([0.0] + [min(e, we) - max(s, ws) for s, e in spans])

    def covers(self, nid: str, oid: str) -> list[str]:
        """Ids of the future occurrences of need `nid` that offer `oid` can serve."""
        if self.offers[oid].get("sessions") or not self.place(nid, oid):
            return []
        dur = self.duration(nid)
        return [o["id"] for o in self.future(nid)
                if self.free_in(oid, max(_ts(o["start"]), self.now), _ts(o["end"])) >= dur - 1e-6]

    def fitting_sessions(self, nid: str, oid: str) -> list[str]:
        """Ids of the offer's sessions a one-off need can join, earliest first."""
        n, o = self.needs[nid], self.offers[oid]
        if not o.get("sessions") or n.get("occurrences") or not self.place(nid, oid):
            return []
        windows = [(_ts(w["start"]), _ts(w["end"])) for w in n.get("when") or []] or [(self.now, self.now + FLEX)]
        fits = [(_ts(s["start"]), i, s["id"]) for i, s in enumerate(o["sessions"])
                if _ts(s["start"]) >= self.now and any(ws <= _ts(s["start"]) and _ts(s["end"]) <= we for ws, we in windows)]
        return [sid for _t, _i, sid in sorted(fits)]

    def ordinary(self, nid: str, oid: str) -> bool:
        """A one-off need and an offer without sessions that fit by version 1's rules."""
        return not self.needs[nid].get("occurrences") and not self.offers[oid].get("sessions") and self.feasible(nid, oid)


def _lp(edges: list, limits: dict) -> float:
    """Max sum(units x score) over edges (score, constraint keys) with sum per key <= limits[key]."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    if not edges:
        return 0.0
    keys = sorted({k for _s, ks in edges for k in ks}, key=repr)
    at = {k: r for r, k in enumerate(keys)}
    rows, cols = zip(*[(at[k], e) for e, (_s, ks) in enumerate(edges) for k in ks])
    a = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(keys), len(edges))).tocsr()
    res = linprog(-np.array([s for s, _ in edges]), A_ub=a, b_ub=[limits[k] for k in keys], bounds=(0, None), method="highs")
    return -res.fun


def check_v2(doc: dict, sol: dict, sample: int = 400, seed: int = 0) -> Report:
    """Check a version 2 solution against its instance; `sample` needs are checked for recall (0 = all)."""
    rules, report = Rules2(doc), Report()
    bad = report.problems.append
    top_k = int(doc.get("top_k", 10))
    if sol.get("format") != "mutual-aid-matching/2":
        bad(f"output format {sol.get('format')!r}")
    listed: dict[tuple, dict] = {}
    for nid, cands in (sol.get("candidates") or {}).items():
        if nid not in rules.needs:
            bad(f"candidates for unknown need {nid}")
            continue
        _check_list(rules, nid, cands, top_k, listed, bad)
    ids = list(rules.needs)
    chosen = ids if sample == 0 or sample >= len(ids) else random.Random(seed).sample(ids, sample)
    short = 0
    for nid in chosen:
        short += _check_recall(rules, nid, (sol.get("candidates") or {}).get(nid) or [], top_k, bad)
    gap = _check_assignment(rules, sol, listed, bad)
    report.figures.update(needs=len(rules.needs), offers=len(rules.offers), listed_pairs=len(listed),
                          recall_short=f"{short}/{len(chosen)}", optimality_gap=f"{100 * gap:.3f}%")
    return report


def _check_list(rules: Rules2, nid: str, cands: list, top_k: int, listed: dict, bad) -> None:
    n = rules.needs[nid]
    repeating = bool(n.get("occurrences"))
    future = [o["id"] for o in rules.future(nid)]
    if len(cands) > top_k:
        bad(f"{nid}: {len(cands)} candidates > top_k")
    last = (False, -math.inf)
    for c in cands:
        oid, score = c.get("offer"), c.get("score")
        if oid not in rules.offers or (nid, oid) in listed:
            bad(f"{nid}: unknown or repeated offer {oid}")
            continue
        if not isinstance(score, (int, float)) or not 0 < score <= 1:
            bad(f"{nid}->{oid}: score {score!r} outside (0, 1]")
            continue
        if not 2 <= len(c.get("reasons") or []) <= 4:
            bad(f"{nid}->{oid}: {len(c.get('reasons') or [])} reasons, want 2-4")
        listed[(nid, oid)] = c
        if rules.excluded(nid, oid):
            bad(f"{nid}->{oid}: listed but excluded by '{rules.excluded(nid, oid)}'")
        if repeating:
            covers = rules.covers(nid, oid)
            if c.get("covers") != covers or not covers:
                bad(f"{nid}->{oid}: covers {c.get('covers')} but the offer can serve {covers}")
            if c.get("standing") is not (covers == future):
                bad(f"{nid}->{oid}: standing {c.get('standing')} but it covers {len(covers)} of {len(future)}")
            key = (not c.get("standing"), -(score + round(0.1 * len(c.get("covers") or []) / max(len(future), 1), 6)))
        else:
            if "standing" in c or "covers" in c:
                bad(f"{nid}->{oid}: a one-off need's candidate with standing/covers")
            if rules.offers[oid].get("sessions"):
                fits = rules.fitting_sessions(nid, oid)
                if not fits or c.get("sessions") != fits or c.get("session") != fits[0]:
                    bad(f"{nid}->{oid}: sessions {c.get('sessions')} / {c.get('session')} but {fits} fit")
            elif not rules.ordinary(nid, oid) or "session" in c:
                bad(f"{nid}->{oid}: listed but not feasible")
            key = (False, -score)
        if key[0] < last[0] or (key[0] == last[0] and key[1] < last[1] - 1e-9):
            bad(f"{nid}: candidates not in rank order at {oid}")
        last = key


def _check_recall(rules: Rules2, nid: str, cands: list, top_k: int, bad) -> int:
    repeating = bool(rules.needs[nid].get("occurrences"))
    if repeating:
        future = [o["id"] for o in rules.future(nid)]
        cover = {oid: rules.covers(nid, oid) for oid in rules.offers}
        feasible = sum(1 for v in cover.values() if v)
        standing = {oid for oid, v in cover.items() if v and v == future}
        got_standing = {c["offer"] for c in cands if c.get("standing")}
        if standing - got_standing and len(got_standing) < min(top_k, len(standing)):
            bad(f"{nid}: {len(got_standing)} standing listed but {len(standing)} can stand")
    else:
        feasible = sum(1 for oid in rules.offers if rules.ordinary(nid, oid) or rules.fitting_sessions(nid, oid))
    if len(cands) < min(top_k, feasible):
        bad(f"{nid}: {len(cands)} listed but {feasible} feasible")
        return 1
    return 0


def _check_assignment(rules: Rules2, sol: dict, listed: dict, bad) -> float:
    used_need, used_offer, used_session, total = {}, {}, {}, 0.0
    standing_units, by_occ, by_date, date_total = {}, {}, {}, {}
    edges_a, rows_b = [], []
    for row in sol.get("assignment") or []:
        nid, oid, units, score = row.get("need"), row.get("offer"), row.get("units"), row.get("score")
        c = listed.get((nid, oid))
        if nid in rules.needs and oid in rules.offers and rules.excluded(nid, oid):
            bad(f"assignment {nid}->{oid}: excluded by '{rules.excluded(nid, oid)}'")
        if c is None or not isinstance(units, int) or units <= 0 or score != c["score"] and "occurrence" not in row:
            bad(f"assignment {nid}->{oid}: not a listed candidate, or units {units!r} / score {score!r}")
            continue
        if "occurrence" in row:
            rows_b.append((row, c))
            continue
        repeating = bool(rules.needs[nid].get("occurrences"))
        if repeating and not (row.get("standing") is True and c.get("standing") is True):
            bad(f"assignment {nid}->{oid}: a repeating need in stage A but not standing")
        if "session" in row:
            if row["session"] not in (c.get("sessions") or []):
                bad(f"assignment {nid}->{oid}: session {row['session']} does not fit")
            used_session[(oid, row["session"])] = used_session.get((oid, row["session"]), 0) + units
        elif c.get("sessions"):
            bad(f"assignment {nid}->{oid}: a group offer without a session")
        if repeating:
            standing_units[nid] = standing_units.get(nid, 0) + units
        used_need[nid] = used_need.get(nid, 0) + units
        used_offer[oid] = used_offer.get(oid, 0) + units
        total += units * score
    for nid, u in used_need.items():
        if u > rules.needs[nid].get("quantity", 1):
            bad(f"need {nid} gets {u} > quantity in stage A")
    for oid, u in used_offer.items():
        if u > rules.offers[oid]["capacity"]:
            bad(f"offer {oid} gives {u} > capacity in stage A")
    places = {(oid, s["id"]): s["places"] for oid, o in rules.offers.items() for s in o.get("sessions") or []}
    for key, u in used_session.items():
        if u > places[key]:
            bad(f"session {key} takes {u} > {places[key]} places")
    occurrence = {(nid, o["id"]): o for nid in rules.needs for o in rules.future(nid)}
    for row, c in rows_b:
        nid, oid, units, occ = row["need"], row["offer"], row["units"], row["occurrence"]
        o = occurrence.get((nid, occ))
        if o is None or occ not in (c.get("covers") or []):
            bad(f"assignment {nid}->{oid}: occurrence {occ} is not future or not covered")
            continue
        n_future = len(rules.future(nid))
        if row.get("bonus") != round(0.1 * len(c["covers"]) / n_future, 6) or not 0 < row["score"] <= 1:
            bad(f"assignment {nid}->{oid} at {occ}: bonus {row.get('bonus')} / score {row['score']}")
        by_occ[(nid, occ)] = by_occ.get((nid, occ), 0) + units
        date = datetime.fromisoformat(o["start"]).date().isoformat()
        by_date[(oid, date)] = by_date.get((oid, date), 0) + units
        date_total[date] = date_total.get(date, 0.0) + units * (row["score"] + row["bonus"])
    for (nid, occ), u in by_occ.items():
        if u > rules.needs[nid].get("quantity", 1) - standing_units.get(nid, 0):
            bad(f"occurrence {nid}/{occ} gets {u} units, more than stage A left")
    for (oid, date), u in by_date.items():
        if u > rules.offers[oid]["capacity"] - used_offer.get(oid, 0):
            bad(f"offer {oid} gives {u} on {date}, more than the {rules.offers[oid]['capacity'] - used_offer.get(oid, 0)} stage A left")
    sought = sorted({datetime.fromisoformat(o["start"]).date().isoformat() for (nid, _occ), o in occurrence.items()
                     if rules.needs[nid].get("quantity", 1) - standing_units.get(nid, 0) > 0})
    got = sol.get("date_objectives") or {}
    if list(got) != sought:
        bad(f"date_objectives has dates {list(got)[:5]}..., stage B sought {sought[:5]}...")
    for date, value in got.items():
        if abs(value - date_total.get(date, 0.0)) > 1e-6 * max(1.0, value):
            bad(f"date_objectives[{date}] = {value} but its rows sum to {date_total.get(date, 0.0):.6f}")
    if abs(total - float(sol.get("objective", -1))) > 1e-6 * max(1.0, total):
        bad(f"objective {sol.get('objective')} but stage A sums to {total:.6f}")
    for (nid, oid), c in listed.items():
        if rules.needs[nid].get("occurrences") and not c.get("standing"):
            continue
        for sid in c.get("sessions") or [None]:
            keys = [("n", nid), ("o", oid)] + ([("s", oid, sid)] if sid is not None else [])
            edges_a.append((c["score"], keys))
    limits = {("n", k): v.get("quantity", 1) for k, v in rules.needs.items()}
    limits.update({("o", k): v["capacity"] for k, v in rules.offers.items()})
    limits.update({("s", *k): v for k, v in places.items()})
    best = _lp(edges_a, limits)
    gap = 0.0 if best <= 0 else (best - total) / best
    if gap > 1e-6:
        bad(f"stage A objective {total:.6f} is {100 * gap:.4f}% below the LP optimum {best:.6f}")
    return gap
