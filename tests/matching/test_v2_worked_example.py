"""The worked example of docs/matching-format.md: rides to work Mon-Fri at 7:30 for four weeks.

One driver free every weekday morning stands for the whole series; drivers who each cover part of
it share it occurrence by occurrence, the same-helper bonus keeping each date with the driver who
can do the most of them; a way back goes to the same driver when they can wait, else to another.
"""
from matching import solve_document
from matching.check import check
from tests.matching.helpers import instance2, need, offer, weekday_occurrences, weekly

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
KM = 1 / 111.2  # degrees of latitude per km


def commute(**kw):
    base = dict(id="commute", owner="rider", title="Ride to work", when=[], occurrences=weekday_occurrences(), duration_min=30)
    base.update(kw)
    return need(**base)


def driver(id, days, start="07:00", end="09:00", km=1.0, **kw):
    base = dict(id=id, owner=f"driver-{id}", title="Rides to work", lat=45.0 + km * KM, weekly=weekly(days, start, end))
    base.update(kw)
    return offer(**base)


def solved(doc):
    out = solve_document(doc)
    report = check(doc, out, sample=0)
    assert report.ok, report.problems
    return out


def test_one_driver_free_every_weekday_morning_stands_for_the_series():
    doc = instance2([commute()], [driver("mw", ["mon", "wed"]), driver("all", WEEKDAYS)])
    out = solved(doc)
    cands = out["candidates"]["commute"]
    assert [(c["offer"], c["standing"], len(c["covers"])) for c in cands] == [("all", True, 20), ("mw", False, 8)]
    assert cands[1]["covers"][:3] == ["2026-12-07", "2026-12-09", "2026-12-14"]
    assert out["assignment"] == [{"need": "commute", "offer": "all", "units": 1, "score": cands[0]["score"], "standing": True}]
    assert out["date_objectives"] == {}  # nothing was left for stage B


def test_drivers_who_each_cover_part_share_it_and_the_same_helper_bonus_keeps_mondays_together():
    # b: Mon, Wed, Fri (12 of 20); c: Tue, Thu (8 of 20); d: Mondays only (4 of 20) but closer.
    offers = [driver("b", ["mon", "wed", "fri"]), driver("c", ["tue", "thu"]), driver("d", ["mon"], km=0.0)]
    out = solved(instance2([commute()], offers))
    cands = {c["offer"]: c for c in out["candidates"]["commute"]}
    assert not any(c["standing"] for c in cands.values())
    assert cands["d"]["score"] > cands["b"]["score"]  # d alone would win a Monday...
    rows = {r["occurrence"]: r for r in out["assignment"]}
    assert len(rows) == 20 and all("standing" not in r for r in rows.values())
    mondays = [o for o in rows if o.endswith(("07", "14", "21", "28"))]
    assert len(mondays) == 4 and {rows[o]["offer"] for o in mondays} == {"b"}  # ...but b can do 12 dates, d only 4
    assert rows["2026-12-07"]["bonus"] == 0.06 and rows["2026-12-08"] == {
        "need": "commute", "offer": "c", "units": 1, "score": cands["c"]["score"], "occurrence": "2026-12-08", "bonus": 0.04}
    assert {r["offer"] for o, r in rows.items() if o not in mondays} == {"b", "c"}
    assert out["objective"] == 0.0 and len(out["date_objectives"]) == 20
    assert out["date_objectives"]["2026-12-07"] == round(cands["b"]["score"] + 0.06, 6)


def _there_and_back():
    legs = weekday_occurrences(weeks=2, leg="out") + weekday_occurrences(weeks=2, start="17:00", end="17:45", leg="return")
    return commute(occurrences=sorted(legs, key=lambda o: o["start"]))


def test_the_way_back_goes_to_the_same_driver_when_they_can_wait():
    # p drives every morning and can wait on Mondays and Wednesdays (two rides a day); q drives every evening.
    p = driver("p", WEEKDAYS, capacity=2, weekly=weekly(WEEKDAYS, "07:00", "09:00") + weekly(["mon", "wed"], "16:30", "18:00"))
    q = driver("q", WEEKDAYS, start="16:30", end="18:00")
    out = solved(instance2([_there_and_back()], [q, p]))
    cands = {c["offer"]: c for c in out["candidates"]["commute"]}
    assert len(cands["p"]["covers"]) == 14 and len(cands["q"]["covers"]) == 10
    assert cands["p"]["score"] == cands["q"]["score"]  # the same ride, only the bonus tells them apart
    by = {r["occurrence"]: r["offer"] for r in out["assignment"]}
    assert all(by[f"{d}/out"] == "p" for d in ["2026-12-07", "2026-12-08", "2026-12-11", "2026-12-16"])
    assert [by[f"2026-12-{d:02d}/return"] for d in (7, 8, 9, 10, 11)] == ["p", "q", "p", "q", "q"]
    assert {r["bonus"] for r in out["assignment"] if r["offer"] == "p"} == {0.07}


def test_a_driver_with_one_ride_a_day_leaves_the_way_back_to_another():
    p = driver("p", WEEKDAYS, weekly=weekly(WEEKDAYS, "07:00", "09:00") + weekly(["mon", "wed"], "16:30", "18:00"))
    q = driver("q", WEEKDAYS, start="16:30", end="18:00")
    out = solved(instance2([_there_and_back()], [q, p]))
    by = {r["occurrence"]: r["offer"] for r in out["assignment"]}
    assert len(by) == 20  # per date p has one unit: the morning (only p can), so every return is q's
    assert {o for o, who in by.items() if who == "p"} == {o for o in by if o.endswith("/out")}


def test_a_series_no_one_can_stand_for_and_a_busy_standing_driver():
    # The standing driver is taken in stage A by a one-off need that scores higher (urgent, on a
    # Tuesday only "all" can drive); the series then goes occurrence by occurrence to what is left.
    one_off = need(id="clinic", owner="other", title="Ride to work", urgency=3,
                   when=[{"start": "2026-12-08T07:00-06:00", "end": "2026-12-08T09:00-06:00"}], duration_min=30)
    offers = [driver("all", WEEKDAYS), driver("mw", ["mon", "wed"], capacity=2)]
    out = solved(instance2([commute(), one_off], offers))
    stage_a = [r for r in out["assignment"] if "occurrence" not in r]
    assert [(r["need"], r["offer"]) for r in stage_a] == [("clinic", "all")]
    rows = [r for r in out["assignment"] if "occurrence" in r]
    assert {r["offer"] for r in rows} == {"mw"} and len(rows) == 8
