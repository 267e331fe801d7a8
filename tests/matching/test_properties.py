"""Hypothesis: on small random instances every listed pair is feasible, recall is complete,
capacities hold, and the objective equals the LP optimum over the listed candidates."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import parse_instance, solve
from matching.check import check, lp_optimum
from tests.matching.helpers import instance

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
times = st.sampled_from(["06:00", "08:30", "09:00", "12:00", "17:00", "21:30", "23:00", "00:30"])
owner = st.sampled_from(["a", "b", "c", None])
cats = st.sampled_from(["rides", "food"])
lat = st.floats(44.9, 45.1)
lon = st.floats(-92.9, -92.7)


@st.composite
def windows(draw):
    out = []
    for _ in range(draw(st.integers(0, 2))):
        day = draw(st.integers(1, 20))
        hour = draw(st.integers(0, 22))
        length = draw(st.sampled_from([30, 60, 90, 180, 600]))
        start = f"2026-12-{day:02d}T{hour:02d}:00-06:00"
        end_min = hour * 60 + length
        end_day, end_min = day + end_min // 1440, end_min % 1440
        out.append({"start": start, "end": f"2026-12-{end_day:02d}T{end_min // 60:02d}:{end_min % 60:02d}-06:00"})
    return out


@st.composite
def instances(draw):
    needs = [{"id": f"n{i}", "owner": draw(owner), "category": draw(cats), "title": draw(st.sampled_from(["ride", "meals", "clinic ride"])),
              "lat": draw(lat), "lon": draw(lon), "max_km": draw(st.sampled_from([None, 5.0, 15.0])),
              "quantity": draw(st.integers(1, 4)), "urgency": draw(st.integers(0, 3)), "when": draw(windows()),
              "duration_min": draw(st.sampled_from([30, 60, 120]))} for i in range(draw(st.integers(1, 12)))]
    offers = [{"id": f"o{i}", "owner": draw(owner), "category": draw(cats), "title": draw(st.sampled_from(["rides", "hot meals", "clinic rides"])),
               "lat": draw(lat), "lon": draw(lon), "radius_km": draw(st.sampled_from([3.0, 8.0, 20.0])),
               "capacity": draw(st.integers(1, 5)), "when": draw(windows()),
               "weekly": [{"day": draw(st.sampled_from(DAYS)), "start": draw(times), "end": draw(times)}
                          for _ in range(draw(st.integers(0, 2)))],
               "tz": "America/Chicago"} for i in range(draw(st.integers(1, 12)))]
    return instance(needs, offers, top_k=draw(st.integers(1, 4)))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_solutions_are_feasible_complete_and_optimal(doc):
    out = solve(parse_instance(doc)).to_dict()
    report = check(doc, out, sample=0)
    assert report.ok, report.problems
    listed = [(n, c["offer"], c["score"]) for n, cands in out["candidates"].items() for c in cands]
    best = lp_optimum(listed, {n["id"]: n["quantity"] for n in doc["needs"]}, {o["id"]: o["capacity"] for o in doc["offers"]})
    assert abs(out["objective"] - best) <= 1e-6 * max(1.0, best)
