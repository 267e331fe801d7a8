"""Version 2's rules one at a time: input errors, occurrences in the past, group offers and their
sessions, the Python API (dataclasses, single-post calls) and the output's keys."""
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import matching
from matching import Engine, InstanceError, Need, Occurrence, Offer, Session, parse_instance, solve, solve_document
from matching.check import check
from tests.matching.helpers import instance, instance2, need, offer, weekday_occurrences, weekly

ROOT = Path(__file__).resolve().parents[2]
OCC = [{"id": "a", "start": "2026-12-08T09:00-06:00", "end": "2026-12-08T10:00-06:00"},
       {"id": "b", "start": "2026-12-15T09:00-06:00", "end": "2026-12-15T10:00-06:00", "leg": "return"}]
SESSION = {"id": "s1", "start": "2026-12-08T09:30-06:00", "end": "2026-12-08T10:30-06:00", "places": 4}


def repeating(**kw):
    return need(**dict(dict(when=[], occurrences=[dict(o) for o in OCC]), **kw))


def group(**kw):
    return offer(**dict(dict(category="skills", title="Budgeting workshop", sessions=[dict(SESSION)]), **kw))


ERRORS = [
    (lambda d: d["needs"][0].update(when=[{"start": "2026-12-08T09:00-06:00", "end": "2026-12-08T11:00-06:00"}]),
     "need 'n1' (needs[0]): 'when' and 'occurrences' cannot both be given"),
    (lambda d: d["needs"][0].update(occurrences=[]), "need 'n1' (needs[0]): 'occurrences' must be a list of 1 to 366"),
    (lambda d: d["needs"][0].update(occurrences=[dict(OCC[0], id=str(i)) for i in range(367)]), "'occurrences' must be a list of 1 to 366"),
    (lambda d: d["needs"][0]["occurrences"].append("tuesday"), "need 'n1' (needs[0]): 'occurrences[2]' must be an object"),
    (lambda d: d["needs"][0]["occurrences"][0].pop("id"), "need 'n1' (needs[0]): 'occurrences[0].id' must be a non-empty string"),
    (lambda d: d["needs"][0]["occurrences"][1].update(id="a"), "need 'n1' (needs[0]): 'occurrences[1].id' 'a' is used twice"),
    (lambda d: d["needs"][0]["occurrences"][0].update(start="next tuesday"), "'occurrences[0].start' is not a valid ISO 8601 date-time"),
    (lambda d: d["needs"][0]["occurrences"][0].update(start="2026-12-08T09:00"), "'occurrences[0].start' needs a UTC offset"),
    (lambda d: d["needs"][0]["occurrences"][1].update(end="2026-12-15T08:00-06:00"),
     "need 'n1' (needs[0]): 'occurrences[1].end' is not after its start"),
    (lambda d: d["needs"][0].update(duration_min=90), "'occurrences[0]' lasts 60 min, shorter than 'duration_min' (90 min)"),
    (lambda d: d["needs"][0]["occurrences"][0].update(leg="back"), "'occurrences[0].leg' is 'back'; use 'out' or 'return'"),
    (lambda d: d["offers"][0].update(weekly=weekly(["mon"], "09:00", "10:00")),
     "offer 'o1' (offers[0]): 'sessions' cannot be combined with 'when' or 'weekly'"),
    (lambda d: d["offers"][0].update(sessions={}), "offer 'o1' (offers[0]): 'sessions' must be a list of 1 to 366"),
    (lambda d: d["offers"][0]["sessions"][0].update(places=0), "offer 'o1' (offers[0]): 'sessions[0].places' must be a positive whole number"),
    (lambda d: d["offers"][0]["sessions"][0].update(end="2026-12-08T09:00-06:00"), "'sessions[0].end' is not after its start"),
    (lambda d: d["offers"][0]["sessions"].append(dict(SESSION)), "'sessions[1].id' 's1' is used twice"),
    (lambda d: d["needs"][0].update(lat=200), "need 'n1' (needs[0]): 'lat' is 200"),  # version 1's rules hold
    (lambda d: d.update(format="mutual-aid-matching/3"),
     "'format' must be 'mutual-aid-matching/1' or 'mutual-aid-matching/2', got 'mutual-aid-matching/3'"),
]


def _doc():
    return instance2([repeating()], [group()])


@pytest.mark.parametrize("mutate,expected", ERRORS)
def test_bad_version_2_input_names_the_post_and_field(mutate, expected):
    doc = _doc()
    mutate(doc)
    with pytest.raises(InstanceError) as err:
        parse_instance(doc)
    assert expected in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("mutate,expected", [ERRORS[8], ERRORS[13], ERRORS[-1]])
def test_the_cli_prints_one_line_and_exits_2(mutate, expected):
    doc = _doc()
    mutate(doc)
    proc = subprocess.run([sys.executable, "-m", "matching", "solve"], input=json.dumps(doc), capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"error: {proc.stderr.strip()[7:]}" and expected in proc.stderr


def test_version_1_ignores_version_2_fields_as_before():
    doc = instance([repeating(when=[{"start": "2026-12-08T09:00-06:00", "end": "2026-12-08T11:00-06:00"}])], [group()])
    parsed = parse_instance(doc)
    assert parsed.needs[0].occurrences == () and parsed.offers[0].sessions == () and parsed.format == matching.FORMAT


def test_occurrences_before_now_are_ignored_and_all_past_means_no_candidates():
    past = {"id": "p", "start": "2026-11-30T09:00-06:00", "end": "2026-11-30T10:00-06:00"}
    started = {"id": "s", "start": "2026-12-01T07:30-06:00", "end": "2026-12-01T09:30-06:00"}  # 90 min left after 08:00
    doc = instance2([repeating(occurrences=[past, started, OCC[0]])], [offer()])
    out = solve_document(doc)
    assert out["candidates"]["n1"][0]["covers"] == ["s", "a"] and out["candidates"]["n1"][0]["standing"] is True
    doc = instance2([repeating(occurrences=[past, dict(started, end="2026-12-01T08:30-06:00")])], [offer()])
    assert solve_document(doc)["candidates"] == {"n1": []} and solve_document(doc)["assignment"] == []


def test_a_group_offer_is_met_only_at_a_session_inside_the_needs_window():
    one_off = need(category="skills", title="Budget help")  # Tue 2026-12-08 09:00-11:00
    sessions = [dict(SESSION, id="late", start="2026-12-08T10:30-06:00", end="2026-12-08T11:30-06:00"),  # ends after the window
                dict(SESSION, id="inside", start="2026-12-08T10:00-06:00", end="2026-12-08T11:00-06:00"),
                dict(SESSION, id="first", start="2026-12-08T09:00-06:00", end="2026-12-08T09:45-06:00")]
    out = solve_document(instance2([one_off], [group(sessions=sessions)]))
    c = out["candidates"]["n1"][0]
    assert (c["session"], c["sessions"], c["overlap_min"]) == ("first", ["first", "inside"], 45)
    assert out["assignment"] == [{"need": "n1", "offer": "o1", "units": 1, "score": c["score"], "session": "first"}]
    assert solve_document(instance2([need(id="r", category="skills", when=[], occurrences=OCC)], [group()]))["candidates"] == {"r": []}


def test_a_flexible_need_joins_a_session_in_the_next_14_days_but_not_one_already_begun():
    flexible = need(category="skills", title="Budget help", when=[])
    sessions = [dict(SESSION, id="begun", start="2026-12-01T07:30-06:00", end="2026-12-01T09:30-06:00"),
                dict(SESSION, id="far", start="2026-12-20T09:00-06:00", end="2026-12-20T10:00-06:00"),
                dict(SESSION, id="soon", start="2026-12-10T09:00-06:00", end="2026-12-10T10:00-06:00")]
    c = solve_document(instance2([flexible], [group(sessions=sessions)]))["candidates"]["n1"]
    assert [(x["session"], x["sessions"]) for x in c] == [("soon", ["soon"])]


def test_places_and_the_offers_capacity_both_hold():
    needs = [need(id=f"n{i}", owner=f"u{i}", category="skills", title="Budget help", quantity=2, when=[]) for i in range(4)]
    sessions = [dict(SESSION, id="a", places=3), dict(SESSION, id="b", start="2026-12-09T09:30-06:00",
                                                         end="2026-12-09T10:30-06:00", places=3)]
    doc = instance2(needs, [group(sessions=sessions, capacity=5)])
    out = solve_document(doc)
    per_session = {}
    for r in out["assignment"]:
        per_session[r["session"]] = per_session.get(r["session"], 0) + r["units"]
    assert sum(per_session.values()) == 5 and max(per_session.values()) <= 3
    assert check(doc, out, sample=0).ok


def test_the_python_api_builds_version_2_posts_as_dataclasses():
    t = datetime.fromisoformat
    occ = tuple(Occurrence(o["id"], t(o["start"]), t(o["end"]), o.get("leg", "out")) for o in OCC)
    commute = Need(id="n1", category="rides", title="Ride to the clinic", lat=45.0, lon=-92.8, owner="a", occurrences=occ)
    workshop = Offer(id="w", category="skills", title="Budgeting", lat=45.0, lon=-92.8, radius_km=10, capacity=8,
                     owner="b", sessions=(Session("s1", t(SESSION["start"]), t(SESSION["end"]), places=4),))
    budget = Need(id="n2", category="skills", title="Budget help", lat=45.0, lon=-92.8, owner="c",
                  when=(matching.Window(t("2026-12-08T09:00-06:00"), t("2026-12-08T11:00-06:00")),))
    driver = Offer(id="d", category="rides", title="Clinic rides", lat=45.0, lon=-92.8, radius_km=10, capacity=1, owner="e")
    inst = matching.Instance(now=t("2026-12-01T08:00-06:00"), needs=(commute, budget), offers=(driver, workshop))
    result = solve(inst)  # a Python-built instance with occurrences or sessions is solved as version 2
    assert result.format == matching.FORMAT_V2
    (c,) = result.candidates["n1"]
    assert (c.offer, c.standing, c.covers, c.session) == ("d", True, ("a", "b"), None)
    (s,) = result.candidates["n2"]
    assert (s.offer, s.session, s.sessions, s.standing) == ("w", "s1", ("s1",), None)
    assert [(a.need, a.offer, a.standing, a.occurrence, a.session) for a in result.assignment] == [
        ("n1", "d", True, None, None), ("n2", "w", False, None, "s1")]
    engine = Engine(inst)
    assert engine.candidates_for_need(commute) == list(result.candidates["n1"])
    assert engine.candidates_for_need(budget) == list(result.candidates["n2"])
    (back,) = engine.candidates_for_offer(driver)
    assert (back.need, back.standing, back.covers) == ("n1", True, ("a", "b"))
    (joined,) = engine.candidates_for_offer(workshop)
    assert (joined.need, joined.session) == ("n2", "s1")
    doc = result.to_dict()
    assert doc["format"] == matching.FORMAT_V2 and doc["assignment"][1] == {
        "need": "n2", "offer": "w", "units": 1, "score": s.score, "session": "s1"}


def test_single_post_calls_agree_with_the_whole_solve_on_a_generated_instance():
    from matching.generate import generate

    doc, _ = generate(400, 400, region="valley", seed=21, v2=True)
    inst = parse_instance(doc)
    result, engine = solve(inst), Engine(inst)
    repeating_needs = [n for n in inst.needs if n.occurrences]
    assert len(repeating_needs) >= 10
    for n in repeating_needs + [n for n in inst.needs if n.category == "skills"][:20]:
        assert engine.candidates_for_need(n) == list(result.candidates[n.id])


def test_output_keys_are_in_a_fixed_order():
    doc = instance2([repeating(), need(id="n2", owner="z", category="skills", title="Budget")],
                    [offer(weekly=weekly(["tue"], "08:00", "12:00")), group(id="w")])
    out = solve_document(dict(doc, reason_codes=True))
    assert list(out) == ["format", "candidates", "assignment", "objective", "date_objectives"]
    assert list(out["candidates"]["n1"][0]) == ["offer", "score", "distance_km", "overlap_min", "reasons", "reason_codes",
                                                "standing", "covers"]
    assert list(out["candidates"]["n2"][0]) == ["offer", "score", "distance_km", "overlap_min", "reasons", "reason_codes",
                                                "session", "sessions"]
    assert [list(r) for r in out["assignment"]] == [["need", "offer", "units", "score", "standing"],
                                                    ["need", "offer", "units", "score", "session"]]


def test_a_version_1_document_relabelled_as_version_2_gets_the_same_answer():
    from matching.generate import generate

    doc, _ = generate(300, 300, region="valley", seed=3)
    one, two = solve_document(doc), solve_document(dict(doc, format="mutual-aid-matching/2"))
    assert two.pop("format") == "mutual-aid-matching/2" and two.pop("date_objectives") == {}
    assert one.pop("format") == "mutual-aid-matching/1" and two == one


def test_weekday_commute_helper_makes_twenty_weekdays():
    occ = weekday_occurrences()
    assert len(occ) == 20 and occ[0]["id"] == "2026-12-07" and occ[-1]["id"] == "2027-01-01"
