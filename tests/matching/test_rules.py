"""Each feasibility rule of the format, checked through the engine's public API."""
import math


from matching import parse_instance, solve
from tests.matching.helpers import instance, need, offer


def pairs(doc):
    result = solve(parse_instance(doc))
    return {(c.need, c.offer) for cands in result.candidates.values() for c in cands}


def test_same_category_only():
    assert pairs(instance([need()], [offer(category="food")])) == set()
    assert pairs(instance([need()], [offer()])) == {("n1", "o1")}


def test_same_owner_never_matches_but_missing_owner_does():
    assert pairs(instance([need(owner="x")], [offer(owner="x")])) == set()
    assert pairs(instance([need(owner=None)], [offer(owner="x")])) == {("n1", "o1")}


def _north(km):
    return 45.0 + km / 6371.0088 * 180 / math.pi


def test_offer_radius_at_the_boundary():
    assert pairs(instance([need(lat=_north(9.9995))], [offer(radius_km=10.0)])) == {("n1", "o1")}
    assert pairs(instance([need(lat=_north(10.0))], [offer(radius_km=10.0)])) == {("n1", "o1")}  # 1 m tolerance
    assert pairs(instance([need(lat=_north(10.01))], [offer(radius_km=10.0)])) == set()


def test_need_max_km_limits_too():
    assert pairs(instance([need(lat=_north(6), max_km=5)], [offer(radius_km=50)])) == set()
    assert pairs(instance([need(lat=_north(4), max_km=5)], [offer(radius_km=50)])) == {("n1", "o1")}


def test_weekly_slot_must_cover_the_duration_inside_the_window():
    # Tue 2026-12-08 09:00-11:00 need, 60 minutes
    assert pairs(instance([need()], [offer(weekly=[{"day": "tue", "start": "10:00", "end": "12:00"}])])) == {("n1", "o1")}
    assert pairs(instance([need()], [offer(weekly=[{"day": "tue", "start": "10:30", "end": "12:00"}])])) == set()
    assert pairs(instance([need()], [offer(weekly=[{"day": "wed", "start": "09:00", "end": "12:00"}])])) == set()


def test_weekly_slot_is_wall_clock_across_dst():
    # DST starts 2027-03-14 in Chicago. A Tue 9:00-10:00 slot is 9:00 local both before and after.
    slot = [{"day": "tue", "start": "09:00", "end": "10:00"}]
    before = need(when=[{"start": "2027-03-09T09:00-06:00", "end": "2027-03-09T10:00-06:00"}])
    after = need(id="n2", when=[{"start": "2027-03-16T09:00-05:00", "end": "2027-03-16T10:00-05:00"}])
    wrong = need(id="n3", when=[{"start": "2027-03-16T09:00-06:00", "end": "2027-03-16T10:00-06:00"}])  # 10:00 CDT
    doc = instance([before, after, wrong], [offer(weekly=slot)], now="2027-03-08T08:00-06:00")
    assert pairs(doc) == {("n1", "o1"), ("n2", "o1")}


def test_overnight_slot_runs_past_midnight():
    late = need(when=[{"start": "2026-12-09T00:00-06:00", "end": "2026-12-09T02:00-06:00"}], duration_min=90)
    assert pairs(instance([late], [offer(weekly=[{"day": "tue", "start": "22:00", "end": "02:00"}])])) == {("n1", "o1")}
    assert pairs(instance([late], [offer(weekly=[{"day": "wed", "start": "22:00", "end": "02:00"}])])) == set()


def test_adjacent_slots_join_into_one_stretch():
    slots = [{"day": "tue", "start": "09:00", "end": "09:40"}, {"day": "tue", "start": "09:40", "end": "10:30"}]
    assert pairs(instance([need()], [offer(weekly=slots)])) == {("n1", "o1")}


def test_dated_windows_and_any_time_offers():
    assert pairs(instance([need()], [offer(when=[{"start": "2026-12-08T08:00-06:00", "end": "2026-12-08T10:00-06:00"}])])) == {("n1", "o1")}
    assert pairs(instance([need()], [offer(when=[{"start": "2026-12-08T10:30-06:00", "end": "2026-12-08T13:00-06:00"}])])) == set()
    assert pairs(instance([need()], [offer()])) == {("n1", "o1")}  # no when, no weekly: any time


def test_only_time_after_now_counts():
    n = need(when=[{"start": "2026-12-01T07:00-06:00", "end": "2026-12-01T08:45-06:00"}], duration_min=60)
    assert pairs(instance([n], [offer()])) == set()  # only 45 minutes are left after now (08:00)
    n2 = need(when=[{"start": "2026-12-01T07:00-06:00", "end": "2026-12-01T09:15-06:00"}], duration_min=60)
    assert pairs(instance([n2], [offer()])) == {("n1", "o1")}


def test_flexible_need_uses_the_next_14_days():
    flexible = need(when=[], duration_min=120)
    inside = offer(when=[{"start": "2026-12-14T09:00-06:00", "end": "2026-12-14T11:00-06:00"}])
    outside = offer(id="o2", when=[{"start": "2026-12-16T09:00-06:00", "end": "2026-12-16T11:00-06:00"}])
    assert pairs(instance([flexible], [inside, outside])) == {("n1", "o1")}


def test_candidates_are_capped_at_top_k_best_first():
    offers = [offer(id=f"o{i}", lat=45.0 + i * 0.01) for i in range(15)]
    result = solve(parse_instance(instance([need()], offers, top_k=5)))
    scores = [c.score for c in result.candidates["n1"]]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    assert [c.offer for c in result.candidates["n1"]][0] == "o0"  # the closest, all else equal


def test_capacity_splits_a_need_and_is_never_exceeded():
    needs = [need(id=f"n{i}", owner=f"u{i}", category="food", quantity=3, title="Meals") for i in range(3)]
    offers = [offer(id="o1", category="food", capacity=4, title="Meals"), offer(id="o2", category="food", capacity=2, title="Meals")]
    result = solve(parse_instance(instance(needs, offers)))
    by_offer = {}
    for a in result.assignment:
        by_offer[a.offer] = by_offer.get(a.offer, 0) + a.units
    assert by_offer == {"o1": 4, "o2": 2}
    assert sum(a.units for a in result.assignment) == 6
    assert abs(result.objective - sum(a.units * a.score for a in result.assignment)) < 1e-9


def test_reasons_are_two_to_four_plain_phrases():
    result = solve(parse_instance(instance([need(urgency=3)], [offer(lat=45.05)])))
    reasons = result.candidates["n1"][0].reasons
    assert 2 <= len(reasons) <= 4
    assert reasons[0].startswith("same kind of help:") and "clinic" in reasons[0]
    assert "6 km away" in reasons and "urgent: today" in reasons
