"""Version 2's hard exclusions one rule at a time: `exclude_owners`, `exclude_pairs`, `requires` /
`provides`; their input errors and version 1's refusal; the Python API; the single-post calls; every
stage (version 1's lists, standing, stage B, sessions); and the worked example of
docs/matching-format.md (rides for residents that need a licence and insurance check in date)."""
import json
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

import matching
from matching import Engine, Instance, InstanceError, Need, Offer, parse_instance, solve, solve_document
from matching.check import check
from matching.model_v2 import parse_need_v2, parse_offer_v2
from tests.matching.helpers import instance, instance2, need, offer, weekday_occurrences, weekly

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "matching-format.md").read_text()
EXAMPLE = json.loads(DOC.split("### Version 2 with exclusions\n")[1].split("```json\n")[1].split("```")[0])


def _doc():
    return instance2([need(requires=["licence"])], [offer(provides=["licence"])])


ERRORS = [
    (lambda d: d.update(exclude_owners={"a": "b"}), "instance: 'exclude_owners' must be a list of [owner, owner] pairs"),
    (lambda d: d.update(exclude_owners=[["a", "b", "c"]]), "instance: 'exclude_owners[0]' must be a pair [owner, owner]"),
    (lambda d: d.update(exclude_owners=[["a", "b"], "ab"]), "instance: 'exclude_owners[1]' must be a pair [owner, owner]"),
    (lambda d: d.update(exclude_owners=[["a", ""]]),
     "instance: 'exclude_owners[0][1]' must be an owner id (a non-empty string or a whole number)"),
    (lambda d: d.update(exclude_owners=[[True, "b"]]), "instance: 'exclude_owners[0][0]' must be an owner id"),
    (lambda d: d.update(exclude_pairs="n1:o1"), "instance: 'exclude_pairs' must be a list of [need id, offer id] pairs"),
    (lambda d: d.update(exclude_pairs=[["n1"]]), "instance: 'exclude_pairs[0]' must be a pair [need id, offer id]"),
    (lambda d: d.update(exclude_pairs=[[1, "o1"]]), "instance: 'exclude_pairs[0][0]' must be a need id (a non-empty string)"),
    (lambda d: d.update(exclude_pairs=[["n1", " "]]), "instance: 'exclude_pairs[0][1]' must be an offer id (a non-empty string)"),
    (lambda d: d["needs"][0].update(requires="licence"), "need 'n1' (needs[0]): 'requires' must be a list of non-empty strings"),
    (lambda d: d["needs"][0].update(requires=["licence", 3]), "need 'n1' (needs[0]): 'requires[1]' must be a non-empty string"),
    (lambda d: d["offers"][0].update(provides={"licence": True}),
     "offer 'o1' (offers[0]): 'provides' must be a list of non-empty strings"),
    (lambda d: d["offers"][0].update(provides=[""]), "offer 'o1' (offers[0]): 'provides[0]' must be a non-empty string"),
]
V1_ERRORS = [
    (lambda d: d.update(exclude_owners=[]),
     "instance: 'exclude_owners' needs format 'mutual-aid-matching/2' (version 1 has no exclusions)"),
    (lambda d: d.update(exclude_pairs=[["n1", "o1"]]), "instance: 'exclude_pairs' needs format 'mutual-aid-matching/2'"),
    (lambda d: d["needs"][0].update(requires=["licence"]),
     "need 'n1' (needs[0]): 'requires' needs format 'mutual-aid-matching/2' (version 1 has no requirements)"),
    (lambda d: d["offers"][0].update(provides=[]), "offer 'o1' (offers[0]): 'provides' needs format 'mutual-aid-matching/2'"),
]


@pytest.mark.parametrize("mutate,expected", ERRORS)
def test_bad_exclusions_and_labels_name_the_field(mutate, expected):
    doc = _doc()
    mutate(doc)
    with pytest.raises(InstanceError) as err:
        parse_instance(doc)
    assert expected in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("mutate,expected", V1_ERRORS)
def test_a_version_1_document_may_not_use_them(mutate, expected):
    doc = instance([need()], [offer()])
    mutate(doc)
    with pytest.raises(InstanceError) as err:
        parse_instance(doc)
    assert expected in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("version,mutate,expected", [(2, *ERRORS[3]), (2, *ERRORS[10]), (1, *V1_ERRORS[2])])
def test_the_cli_prints_one_line_and_exits_2(version, mutate, expected):
    doc = _doc() if version == 2 else instance([need()], [offer()])
    mutate(doc)
    proc = subprocess.run([sys.executable, "-m", "matching", "solve"], input=json.dumps(doc), capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and expected in proc.stderr


def test_the_error_table_quotes_real_messages():
    source = (ROOT / "matching" / "exclusions.py").read_text()
    for phrase in ["must be a list of [", "must be a pair [", "must be an owner id (a non-empty string or a whole number)",
                   "id (a non-empty string)", "must be a list of non-empty strings", "must be a non-empty string",
                   "(version 1 has no exclusions)", "(version 1 has no requirements)"]:
        assert phrase in DOC and phrase in source, phrase


def test_null_or_empty_fields_are_absent_and_labels_keep_their_order_without_repeats():
    doc = instance2([need(requires=None)], [offer(provides=[])], top_k=2)
    doc.update(exclude_owners=None, exclude_pairs=[])
    inst = parse_instance(doc)
    assert (inst.exclude_owners, inst.exclude_pairs, inst.needs[0].requires, inst.offers[0].provides) == ((), (), (), ())
    doc = dict(_doc(), exclude_owners=[[1, "alice"]])
    doc["needs"][0]["requires"] = ["licence", "insurance", "licence"]
    inst = parse_instance(doc)
    assert inst.needs[0].requires == ("licence", "insurance") and inst.exclude_owners == (("1", "alice"),)


def test_owner_exclusions_are_symmetric_and_owner_ids_may_be_numbers():
    def solved(pairs, need_owner="alice", offer_owner="bob"):
        doc = instance2([need(owner=need_owner)], [offer(owner=offer_owner)])
        doc["exclude_owners"] = pairs
        return solve_document(doc)["candidates"]["n1"]

    assert solved([]) and not solved([["alice", "bob"]]) and not solved([["bob", "alice"]])
    assert solved([["alice", "carol"], ["carol", "bob"]])  # not transitive
    assert not solved([[7, "bob"]], need_owner=7) and not solved([["7", "bob"]], need_owner=7)
    assert solved([["alice", "bob"]], need_owner=None)  # a post without an owner is never blocked by owner
    assert solved([["alice", "alice"]])  # a pair of one owner is allowed; it excludes nothing new


def test_a_pair_exclusion_names_one_need_and_one_offer_only():
    doc = instance2([need(), need("n2")], [offer(), offer("o2", owner="carol")])
    doc["exclude_pairs"] = [["n1", "o1"], ["o2", "n2"]]  # the second names a need "o2" and an offer "n2": none
    out = solve_document(doc)
    assert {n: [c["offer"] for c in cs] for n, cs in out["candidates"].items()} == {"n1": ["o2"], "n2": ["o1", "o2"]}
    assert check(doc, out, sample=0).ok


def test_requires_must_be_a_subset_of_provides_compared_exactly():
    def offers_for(requires, *provides):
        doc = instance2([need(requires=requires)], [offer(f"o{i}", owner=f"x{i}", provides=p) for i, p in enumerate(provides)])
        return [c["offer"] for c in solve_document(doc)["candidates"]["n1"]]

    assert offers_for(["licence", "insurance"], ["licence"], ["insurance", "licence", "dbs"], [], ["Licence", "insurance"]) == ["o1"]
    assert offers_for([], ["licence"], []) == ["o0", "o1"]  # an offer's labels never keep it from a need requiring nothing


def test_exclusions_hold_in_standing_stage_b_and_sessions():
    commute = need("commute", owner="rider", when=[], occurrences=weekday_occurrences(weeks=1), duration_min=30,
                   requires=["licence"])
    budget = need("budget", owner="erin", category="skills", title="Budget help")
    offers = [offer("all", owner="pat", weekly=weekly(["mon", "tue", "wed", "thu", "fri"], "07:00", "09:00"), provides=["licence"]),
              offer("mw", owner="quinn", weekly=weekly(["mon", "wed"], "07:00", "09:00"), provides=["licence"]),
              offer("tt", owner="ray", weekly=weekly(["tue", "thu"], "07:00", "09:00")),  # no licence
              offer("w", owner="wes", category="skills", title="Budgeting workshop",
                    sessions=[{"id": "s1", "start": "2026-12-08T09:30-06:00", "end": "2026-12-08T10:30-06:00", "places": 4}])]
    doc = instance2([commute, budget], offers)
    out = solve_document(doc)
    assert [(c["offer"], c["standing"]) for c in out["candidates"]["commute"]] == [("all", True), ("mw", False)]
    assert out["assignment"][0]["offer"] == "all" and out["assignment"][0]["standing"] is True
    assert [c["offer"] for c in out["candidates"]["budget"]] == ["w"]
    doc["exclude_owners"], doc["exclude_pairs"] = [["pat", "rider"]], [["budget", "w"]]
    out = solve_document(doc)
    assert check(doc, out, sample=0).ok
    assert [c["offer"] for c in out["candidates"]["commute"]] == ["mw"] and out["candidates"]["budget"] == []
    assert {(r["offer"], r["occurrence"]) for r in out["assignment"]} == {("mw", "2026-12-07"), ("mw", "2026-12-09")}


def test_the_python_api_has_the_fields_with_defaults():
    inst = parse_instance(_doc())
    assert Need("n", "rides", "ride", 45.0, -92.8).requires == () and Offer("o", "rides", "r", 45.0, -92.8, 5.0, 1).provides == ()
    assert (inst.exclude_owners, inst.exclude_pairs) == ((), ()) and inst.needs[0].requires == ("licence",)
    built = Instance(now=datetime.fromisoformat("2026-12-01T08:00-06:00"), needs=inst.needs, offers=inst.offers,
                     exclude_owners=(("alice", "bob"),))  # format 1 by default: still honoured, solved as version 2
    result = solve(built)
    assert result.format == matching.FORMAT_V2 and result.candidates == {"n1": ()}
    assert solve(replace(built, exclude_owners=())).candidates["n1"][0].offer == "o1"
    assert Engine(built).candidates_for_need(inst.needs[0]) == []


def test_single_post_calls_apply_every_exclusion_to_the_new_post():
    doc = instance2([need("n1"), need("n2", owner="dan")], [offer("o1"), offer("o2", owner="carol")])
    doc["exclude_owners"], doc["exclude_pairs"] = [["eve", "carol"]], [["new-need", "o1"], ["n2", "new-offer"]]
    engine = Engine(parse_instance(doc))
    new_need = parse_need_v2(need("new-need", owner="eve"))
    assert engine.candidates_for_need(new_need) == []  # o1 by the pair, o2 by eve's block of carol
    assert [c.offer for c in engine.candidates_for_need(replace(new_need, id="other"))] == ["o1"]
    assert [c.need for c in engine.candidates_for_offer(parse_offer_v2(offer("new-offer", owner="eve")))] == ["n1"]
    assert [c.offer for c in engine.candidates_for_need(parse_need_v2(need("x", requires=["licence"])))] == []
    plain = Engine(parse_instance(instance2([need()], [offer()])))  # no exclusions or labels at all
    assert plain.exclusions is None and plain.candidates_for_need(parse_need_v2(need("x", requires=["licence"]))) == []
    assert [c.need for c in plain.candidates_for_offer(parse_offer_v2(offer("y", owner="z", provides=["licence"])))] == ["n1"]


def test_with_short_lists_an_exclusion_can_raise_the_objective():
    # Both needs list only their best offer (top_k 1): without the exclusion both list o1 (capacity 1);
    # excluding (n2, o1) lets n2 list o2, and the assignment serves both. Removing exclusions never
    # lowers the objective only when the lists are complete (docs/matching-format.md).
    doc = instance2([need("n1"), need("n2", owner="dan")],
                    [offer("o1", title="Rides to the clinic"), offer("o2", owner="carol", title="Errands", lat=45.05)], top_k=1)
    free = solve_document(doc)
    doc["exclude_pairs"] = [["n2", "o1"]]
    out = solve_document(doc)
    assert [r["offer"] for r in free["assignment"]] == ["o1"] and [r["offer"] for r in out["assignment"]] == ["o1", "o2"]
    assert out["objective"] > free["objective"]


def test_the_worked_example_rides_for_residents():
    out = solve_document(EXAMPLE)
    assert check(EXAMPLE, out, sample=0).ok
    lists = {n: [c["offer"] for c in cs] for n, cs in out["candidates"].items()}
    # Ana: max is barred from her (a no-contact order), lee's insurance check is out of date.
    # Ben: he turned kim's proposal down before; lee lacks insurance. Mo blocked kim.
    assert lists == {"ana-clinic": ["kim-rides"], "ben-clinic": ["max-rides"], "mo-errand": ["lee-rides", "max-rides"]}
    assert [(r["need"], r["offer"]) for r in out["assignment"]] == [
        ("ana-clinic", "kim-rides"), ("ben-clinic", "max-rides"), ("mo-errand", "lee-rides")]
    free = json.loads(json.dumps(EXAMPLE))
    del free["exclude_owners"], free["exclude_pairs"]
    for post in free["needs"] + free["offers"]:
        post.pop("requires", None), post.pop("provides", None)
    assert all(len(cs) == 3 for cs in solve_document(free)["candidates"].values())  # without them everyone fits everyone


@pytest.mark.parametrize("v2", [False, True])
def test_generated_instances_with_exclusions_pass_the_checker_and_the_exclusions_bite(v2):
    from matching.generate import generate

    doc, _ = generate(400, 400, region="valley", seed=5, v2=v2, exclusions=True)
    assert doc["format"] == matching.FORMAT_V2 and len(doc["exclude_owners"]) >= 2 and len(doc["exclude_pairs"]) >= 4
    out = solve_document(doc)
    report = check(doc, out, sample=0)
    assert report.ok, report.problems[:5]
    free = json.loads(json.dumps(doc))
    del free["exclude_owners"], free["exclude_pairs"]
    for post in free["needs"] + free["offers"]:
        post.pop("requires", None), post.pop("provides", None)
    listed = {(n, c["offer"]) for n, cs in solve_document(free)["candidates"].items() for c in cs}
    kept = {(n, c["offer"]) for n, cs in out["candidates"].items() for c in cs}
    assert len(listed - kept) >= 20  # pairs the exclusions took out of the lists
    plain = generate(400, 400, region="valley", seed=5, v2=v2)[0]
    assert dict(plain, format=matching.FORMAT_V2) == free  # the rest of the instance is unchanged
