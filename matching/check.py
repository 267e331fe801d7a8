"""An independent checker of solutions, written from the format's rules, sharing no code with the engine.

Feasibility is re-derived pair by pair with plain datetime arithmetic, with version 2's exclusions
and requirements read from the document (no excluded pair may be listed or assigned); recall is
checked by brute force over all offers for a sample of needs; optimality against an LP over the
listed candidates (scipy's HiGHS). Slow by design, for tests and benchmark cross-checks.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

R_KM = 6371.0088
DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def haversine(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * R_KM * math.asin(math.sqrt(min(a, 1.0)))


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.figures.items())


class Rules:
    """The format's feasibility rules, one pair at a time."""

    def __init__(self, doc: dict):
        self.now = _ts(doc["now"])
        self.needs = {n["id"]: n for n in doc["needs"]}
        self.offers = {o["id"]: o for o in doc["offers"]}
        ends = [_ts(w["end"]) for n in doc["needs"] for w in n.get("when") or []]
        self.until = max([self.now + 14 * 86400] + ends)
        self._spans: dict[str, list | None] = {}
        # Version 2's hard exclusions, read from the document as written (owner ids compared as strings).
        self.blocked_owners = {frozenset(str(x) for x in pair) for pair in doc.get("exclude_owners") or []}
        self.blocked_posts = {tuple(pair) for pair in doc.get("exclude_pairs") or []}

    def excluded(self, nid: str, oid: str) -> str | None:
        """The field that excludes the pair ('exclude_pairs', 'exclude_owners', 'requires'), or None."""
        n, o = self.needs[nid], self.offers[oid]
        if (nid, oid) in self.blocked_posts:
            return "exclude_pairs"
        owners = n.get("owner"), o.get("owner")
        if all(x is not None and x != "" for x in owners) and frozenset(str(x) for x in owners) in self.blocked_owners:
            return "exclude_owners"
        if not set(n.get("requires") or []) <= set(o.get("provides") or []):
            return "requires"
        return None

    def spans(self, oid: str):
        """The offer's availability as sorted, merged [start, end] timestamps (None: any time)."""
        if oid not in self._spans:
            o = self.offers[oid]
            when, weekly = o.get("when") or [], o.get("weekly") or []
            if not when and not weekly:
                self._spans[oid] = None
            else:
                spans = [(_ts(w["start"]), _ts(w["end"])) for w in when]
                zone = ZoneInfo(o.get("tz") or "UTC")
                day = datetime.fromtimestamp(self.now, zone).date() - timedelta(days=1)
                last = datetime.fromtimestamp(self.until, zone).date()
                while day <= last:
                    for slot in weekly:
                        if DAYS[slot["day"]] == day.weekday():
                            sh, sm = map(int, slot["start"].split(":"))
                            eh, em = map(int, slot["end"].split(":"))
                            start = datetime(day.year, day.month, day.day, sh, sm, tzinfo=zone)
                            end_day = day if (eh, em) > (sh, sm) else day + timedelta(days=1)
                            end = datetime(end_day.year, end_day.month, end_day.day, eh, em, tzinfo=zone)
                            spans.append((start.timestamp(), end.timestamp()))
                    day += timedelta(days=1)
                merged: list[list[float]] = []
                for s, e in sorted(spans):
                    if merged and s <= merged[-1][1]:
                        merged[-1][1] = max(merged[-1][1], e)
                    else:
                        merged.append([s, e])
                self._spans[oid] = merged
        return self._spans[oid]

    def overlap(self, nid: str, oid: str) -> float:
        """Longest stretch (seconds) the offer is free inside one of the need's windows after now."""
        n = self.needs[nid]
        windows = [(_ts(w["start"]), _ts(w["end"])) for w in n.get("when") or []] or [(self.now, self.now + 14 * 86400)]
        spans = self.spans(oid)
        best = 0.0
        for ws, we in windows:
            ws = max(ws, self.now)
            if we <= ws:
                continue
            if spans is None:
                best = max(best, we - ws)
                continue
            for s, e in spans:
                best = max(best, min(e, we) - max(s, ws))
        return best

    def feasible(self, nid: str, oid: str) -> bool:
        n, o = self.needs[nid], self.offers[oid]
        if n["category"] != o["category"]:
            return False
        if n.get("owner") and o.get("owner") and n["owner"] == o["owner"]:
            return False
        if self.excluded(nid, oid):
            return False
        d = haversine(n["lat"], n["lon"], o["lat"], o["lon"])
        if d > o["radius_km"] + 1e-3 or (n.get("max_km") is not None and d > n["max_km"] + 1e-3):
            return False
        return self.overlap(nid, oid) >= 60 * float(n.get("duration_min") or 60) - 1e-6


def lp_optimum(edges, quantity: dict, capacity: dict) -> float:
    """Max sum(units x score) over edges (need, offer, score) under quantities and capacities (an LP)."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    if not edges:
        return 0.0
    nidx = {k: i for i, k in enumerate(sorted({e[0] for e in edges}))}
    oidx = {k: i for i, k in enumerate(sorted({e[1] for e in edges}))}
    m = len(edges)
    rows = [nidx[e[0]] for e in edges] + [len(nidx) + oidx[e[1]] for e in edges]
    a = coo_matrix((np.ones(2 * m), (rows, list(range(m)) * 2)), shape=(len(nidx) + len(oidx), m)).tocsr()
    b = [quantity[k] for k in nidx] + [capacity[k] for k in oidx]
    res = linprog(-np.array([e[2] for e in edges]), A_ub=a, b_ub=b, bounds=(0, None), method="highs")
    return -res.fun


def check(doc: dict, sol: dict, sample: int = 400, seed: int = 0, truth: dict | None = None) -> Report:
    """Check a solution against its instance; `sample` needs are checked for recall (0 = all).

    A version 2 instance is checked by matching/check_v2.py."""
    if doc.get("format") == "mutual-aid-matching/2":
        from matching.check_v2 import check_v2

        report = check_v2(doc, sol, sample=sample, seed=seed)
        _topic_figure(report, sol, truth)
        return report
    rules, report = Rules(doc), Report()
    bad = report.problems.append
    top_k = int(doc.get("top_k", 10))
    listed = {}
    for nid, cands in (sol.get("candidates") or {}).items():
        if nid not in rules.needs:
            bad(f"candidates for unknown need {nid}")
            continue
        if len(cands) > top_k:
            bad(f"{nid}: {len(cands)} candidates > top_k")
        last = math.inf
        for c in cands:
            oid, score = c.get("offer"), c.get("score")
            if oid not in rules.offers:
                bad(f"{nid}: unknown offer {oid}")
                continue
            if (nid, oid) in listed:
                bad(f"{nid}: {oid} listed twice")
            if not isinstance(score, (int, float)) or not 0 < score <= 1:
                bad(f"{nid}->{oid}: score {score!r} outside (0, 1]")
                continue
            if score > last + 1e-12:
                bad(f"{nid}: candidates not best first")
            last = score
            if rules.excluded(nid, oid):
                bad(f"{nid}->{oid}: listed but excluded by '{rules.excluded(nid, oid)}'")
            elif not rules.feasible(nid, oid):
                bad(f"{nid}->{oid}: listed but not feasible")
            if not 2 <= len(c.get("reasons") or []) <= 4:
                bad(f"{nid}->{oid}: {len(c.get('reasons') or [])} reasons, want 2-4")
            listed[(nid, oid)] = float(score)
    ids = list(rules.needs)
    chosen = ids if sample == 0 or sample >= len(ids) else random.Random(seed).sample(ids, sample)
    short = 0
    for nid in chosen:
        feasible = sum(1 for oid in rules.offers if rules.feasible(nid, oid))
        got = len((sol.get("candidates") or {}).get(nid) or [])
        if got < min(top_k, feasible):
            short += 1
            bad(f"{nid}: {got} listed but {feasible} feasible")
    used_n, used_o, total = {}, {}, 0.0
    for row in sol.get("assignment") or []:
        key, units = (row.get("need"), row.get("offer")), row.get("units")
        if key[0] in rules.needs and key[1] in rules.offers and rules.excluded(*key):
            bad(f"assignment {key} excluded by '{rules.excluded(*key)}'")
        if key not in listed:
            bad(f"assignment {key} not among candidates")
            continue
        if not isinstance(units, int) or units <= 0:
            bad(f"assignment {key}: units {units!r}")
            continue
        used_n[key[0]] = used_n.get(key[0], 0) + units
        used_o[key[1]] = used_o.get(key[1], 0) + units
        total += units * listed[key]
    for nid, u in used_n.items():
        if u > rules.needs[nid].get("quantity", 1):
            bad(f"need {nid} gets {u} > quantity")
    for oid, u in used_o.items():
        if u > rules.offers[oid]["capacity"]:
            bad(f"offer {oid} gives {u} > capacity")
    if abs(total - float(sol.get("objective", -1))) > 1e-6 * max(1.0, total):
        bad(f"objective {sol.get('objective')} but the assignment sums to {total:.6f}")
    best = lp_optimum([(n, o, s) for (n, o), s in listed.items()],
                      {k: v.get("quantity", 1) for k, v in rules.needs.items()}, {k: v["capacity"] for k, v in rules.offers.items()})
    gap = 0.0 if best <= 0 else (best - total) / best
    if gap > 1e-3:
        bad(f"objective {total:.4f} is {100 * gap:.2f}% below the LP optimum {best:.4f}")
    report.figures.update(needs=len(rules.needs), offers=len(rules.offers), listed_pairs=len(listed),
                          recall_short=f"{short}/{len(chosen)}", optimality_gap=f"{100 * gap:.3f}%")
    _topic_figure(report, sol, truth)
    return report


def _topic_figure(report: Report, sol: dict, truth: dict | None) -> None:
    if truth:
        tops = [truth.get(n) == truth.get(c[0]["offer"]) for n, c in (sol.get("candidates") or {}).items() if c]
        report.figures["topic_match_top1"] = f"{100 * sum(tops) / max(len(tops), 1):.1f}%"
