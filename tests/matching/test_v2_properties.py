"""Hypothesis on small random version 2 instances: every assignment feasible; quantities, capacities,
session places and each date's leftover capacity never exceeded; standing assignments cover every
future occurrence; the same input gives the same bytes; a version 1 document relabelled as version 2
gets the same answer; and on tiny instances stage A and every stage-B date reach the brute-force optimum."""
import itertools
import json
from datetime import datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import parse_instance, solve_document
from matching.check import check
from matching.repeat import future_occurrences
from matching.v2 import plan
from tests.matching.helpers import instance, instance2
from tests.matching.test_properties import DAYS, instances as v1_instances, owner, times, windows

BASE = datetime(2026, 11, 30)
lat = st.floats(44.95, 45.05)
lon = st.floats(-92.85, -92.75)


def _iso(dt: datetime, offset: str) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M") + offset


@st.composite
def occurrence_list(draw):
    out = []
    for j in range(draw(st.integers(1, 5))):
        start = BASE + timedelta(days=draw(st.integers(0, 9)), hours=draw(st.integers(5, 21)))
        end = start + timedelta(minutes=draw(st.sampled_from([60, 90, 180])))
        offset = draw(st.sampled_from(["-06:00", "-06:00", "+00:00"]))  # the date of a start is as written
        out.append({"id": f"x{j}", "start": _iso(start, offset), "end": _iso(end, offset),
                    "leg": draw(st.sampled_from(["out", "return"]))})
    return out


@st.composite
def session_list(draw):
    out = []
    for j in range(draw(st.integers(1, 3))):
        start = BASE + timedelta(days=draw(st.integers(0, 16)), hours=draw(st.integers(6, 20)))
        out.append({"id": f"s{j}", "start": _iso(start, "-06:00"),
                    "end": _iso(start + timedelta(minutes=draw(st.sampled_from([60, 90]))), "-06:00"),
                    "places": draw(st.integers(1, 3))})
    return out


@st.composite
def v2_instances(draw, max_needs=8, max_offers=8, max_units=3):
    cats = st.sampled_from(["rides", "skills"])
    needs = []
    for i in range(draw(st.integers(1, max_needs))):
        n = {"id": f"n{i}", "owner": draw(owner), "category": draw(cats), "title": draw(st.sampled_from(["ride", "budget help"])),
             "lat": draw(lat), "lon": draw(lon), "max_km": draw(st.sampled_from([None, 5.0])),
             "quantity": draw(st.integers(1, max_units)), "urgency": draw(st.integers(0, 3)),
             "duration_min": draw(st.sampled_from([30, 60]))}
        if draw(st.booleans()):
            n["occurrences"] = draw(occurrence_list())
        else:
            n["when"] = draw(windows())
        needs.append(n)
    offers = []
    for i in range(draw(st.integers(1, max_offers))):
        o = {"id": f"o{i}", "owner": draw(owner), "category": draw(cats), "title": draw(st.sampled_from(["rides", "budget workshop"])),
             "lat": draw(lat), "lon": draw(lon), "radius_km": draw(st.sampled_from([3.0, 20.0])),
             "capacity": draw(st.integers(1, max_units)), "tz": "America/Chicago"}
        if draw(st.integers(0, 3)) == 0:
            o["sessions"] = draw(session_list())
        else:
            o["when"] = draw(windows())
            o["weekly"] = [{"day": draw(st.sampled_from(DAYS)), "start": draw(times), "end": draw(times)}
                           for _ in range(draw(st.integers(0, 3)))]
        offers.append(o)
    return instance2(needs, offers, top_k=draw(st.integers(1, 4)))


def _bytes(doc) -> str:
    return json.dumps(solve_document(doc), separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v2_instances())
def test_v2_solutions_are_feasible_within_every_capacity_and_deterministic(doc):
    text = _bytes(doc)
    out = json.loads(text)
    report = check(doc, out, sample=0)
    assert report.ok, report.problems
    assert _bytes(json.loads(json.dumps(doc))) == text  # same input, same bytes
    needs = {n["id"]: n for n in doc["needs"]}
    now = parse_instance(doc)
    for row in out["assignment"]:
        cand = next(c for c in out["candidates"][row["need"]] if c["offer"] == row["offer"])
        if row.get("standing"):
            need = next(n for n in now.needs if n.id == row["need"])
            future = [need.occurrences[j].id for j in future_occurrences(need, int(now.now.timestamp()))]
            assert cand["covers"] == future and future
        if "occurrence" in row:
            assert "occurrences" in needs[row["need"]] and row["occurrence"] in cand["covers"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v1_instances())
def test_a_version_1_document_relabelled_as_version_2_gets_the_same_answer(doc):
    one, two = json.loads(_bytes(doc)), json.loads(_bytes(dict(doc, format="mutual-aid-matching/2")))
    assert two.pop("date_objectives") == {} and two.pop("format") != one.pop("format")
    assert one == two


def _brute(edges, limits) -> int:
    """The best total gain over integer units per edge (gain, keys), sum per key <= limits[key]."""
    best = 0
    bounds = [min(limits[k] for k in keys) for _g, keys in edges]
    for units in itertools.product(*(range(b + 1) for b in bounds)):
        used = {}
        for u, (_g, keys) in zip(units, edges):
            for k in keys:
                used[k] = used.get(k, 0) + u
        if all(v <= limits[k] for k, v in used.items()):
            best = max(best, sum(u * g for u, (g, _k) in zip(units, edges)))
    return best


def _small(edges, limits) -> bool:
    return np.prod([min(limits[k] for k in keys) + 1 for _g, keys in edges], dtype=float) <= 20_000


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v2_instances(max_needs=4, max_offers=3, max_units=2))
def test_stage_a_and_every_stage_b_date_reach_the_brute_force_optimum(doc):
    p = plan(parse_instance(doc))
    engine = p.engine
    needs = engine.instance.needs
    need, offer, srow, score = p.stage_a_edges
    index = getattr(engine, "_session_index", None)
    edges = [(int(round(s * 1e6)), [("n", int(i)), ("o", int(j))] + ([("s", int(r))] if r >= 0 else []))
             for i, j, r, s in zip(need, offer, srow, score)]
    limits = {("n", i): n.quantity for i, n in enumerate(needs)}
    limits.update({("o", j): o.capacity for j, o in enumerate(engine.instance.offers)})
    if index is not None:
        limits.update({("s", r): int(index.places[r]) for r in range(len(index.places))})
    if _small(edges, limits):
        assert abs(_brute(edges, limits) / 1e6 - p.objective) <= 1e-6
    held, standing = {}, {}
    for i, j, _q, u, _s, is_standing in p.stage_a:
        held[j] = held.get(j, 0) + u
        if is_standing:
            standing[i] = standing.get(i, 0) + u
    by_date: dict[str, list] = {}
    cap_left = {j: o.capacity - held.get(j, 0) for j, o in enumerate(engine.instance.offers)}
    for i, cands in p.lists.items():
        left = needs[i].quantity - standing.get(i, 0)
        if not needs[i].occurrences or left <= 0:
            continue
        for c in cands:
            for j, s in zip(c.covers, c.occ_scores):
                if cap_left[c.offer] > 0:
                    by_date.setdefault(needs[i].occurrences[j].date, []).append(
                        (int(round(s * 1e6)) + int(round(c.bonus * 1e6)), [("occ", i, j), ("o", c.offer)]))
                    limits[("occ", i, j)] = left
    limits.update({("o", j): v for j, v in cap_left.items()})
    for date, date_edges in by_date.items():
        if _small(date_edges, limits):
            assert abs(_brute(date_edges, limits) / 1e6 - p.date_objectives[date]) <= 1e-6, date
    assert set(by_date) <= set(p.date_objectives)
    assert all(v == 0.0 for d, v in p.date_objectives.items() if d not in by_date)


def test_the_strategies_reach_both_stages_and_sessions():
    # A fixed tiny instance through the brute-force test's path, so a broken strategy cannot hide it.
    doc = instance2([{"id": "r", "owner": "a", "category": "rides", "title": "ride", "lat": 45.0, "lon": -92.8, "quantity": 1,
                      "duration_min": 30, "occurrences": [{"id": "x0", "start": "2026-12-02T07:00-06:00", "end": "2026-12-02T08:00-06:00"},
                                                          {"id": "x1", "start": "2026-12-03T07:00-06:00", "end": "2026-12-03T08:00-06:00"}]}],
                    [{"id": "o0", "owner": "b", "category": "rides", "title": "rides", "lat": 45.0, "lon": -92.8, "radius_km": 5.0,
                      "capacity": 1, "weekly": [{"day": "wed", "start": "06:00", "end": "09:00"}], "tz": "America/Chicago"}])
    p = plan(parse_instance(doc))
    assert p.stage_a == [] and [(r[1], r[3]) for r in p.stage_b] == [(0, 1)] and list(p.date_objectives) == ["2026-12-02", "2026-12-03"]
    assert check(doc, json.loads(_bytes(doc)), sample=0).ok
    assert instance([], [])["format"] == "mutual-aid-matching/1"
