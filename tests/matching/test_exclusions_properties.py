"""Hypothesis on small random version 2 instances with random exclusions and requirements: no excluded
pair is ever listed or assigned (whole solve and single-post calls; checked here from the document,
and by the checker); removing the exclusions never lowers the objective when the lists are complete;
the same input gives the same bytes, whatever the order of the exclusion lists and of each owner pair;
and exclusions naming no post of the instance change nothing."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import Engine, parse_instance, solve, solve_document
from matching.check import check
from tests.matching.test_v2_properties import v2_instances

OWNERS = ["a", "b", "c", "d"]
LABELS = ["licence", "insurance", "dbs"]
labels = st.lists(st.sampled_from(LABELS), max_size=3)


@st.composite
def excluded_instances(draw, complete=False):
    doc = draw(v2_instances())
    for n in doc["needs"]:
        if draw(st.integers(0, 2)) == 0:
            n["requires"] = draw(labels)
    for o in doc["offers"]:
        if draw(st.booleans()):
            o["provides"] = draw(labels)
    doc["exclude_owners"] = draw(st.lists(st.lists(st.sampled_from(OWNERS), min_size=2, max_size=2), max_size=4))
    need_ids = [n["id"] for n in doc["needs"]] + ["n-gone"]
    offer_ids = [o["id"] for o in doc["offers"]] + ["o-gone"]
    doc["exclude_pairs"] = draw(st.lists(st.tuples(st.sampled_from(need_ids), st.sampled_from(offer_ids)).map(list), max_size=6))
    if complete:  # every fitting offer is listed, so an exclusion only removes edges of the assignment
        doc["top_k"] = len(doc["offers"])
    return doc


def excluded(doc):
    """The test's own reading of the document: a function (need id, offer id) -> bool."""
    owners = {frozenset(p) for p in doc.get("exclude_owners") or []}
    pairs = {tuple(p) for p in doc.get("exclude_pairs") or []}
    needs, offers = {n["id"]: n for n in doc["needs"]}, {o["id"]: o for o in doc["offers"]}

    def test(nid, oid):
        n, o = needs[nid], offers[oid]
        if (nid, oid) in pairs or not set(n.get("requires") or []) <= set(o.get("provides") or []):
            return True
        return n.get("owner") is not None and o.get("owner") is not None and frozenset((n["owner"], o["owner"])) in owners
    return test


def without_exclusions(doc):
    doc = json.loads(json.dumps(doc))
    doc.pop("exclude_owners"), doc.pop("exclude_pairs")
    for post in doc["needs"] + doc["offers"]:
        post.pop("requires", None), post.pop("provides", None)
    return doc


def _bytes(doc) -> str:
    return json.dumps(solve_document(doc), separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(excluded_instances())
def test_no_excluded_pair_is_ever_listed_or_assigned(doc):
    out = solve_document(doc)
    bad = excluded(doc)
    assert not [(n, c["offer"]) for n, cands in out["candidates"].items() for c in cands if bad(n, c["offer"])]
    assert not [(a["need"], a["offer"]) for a in out["assignment"] if bad(a["need"], a["offer"])]
    report = check(doc, out, sample=0)  # the checker also finds every fitting pair that is not excluded listed
    assert report.ok, report.problems
    inst = parse_instance(doc)
    engine, result = Engine(inst), solve(inst)
    for n in inst.needs:
        got = engine.candidates_for_need(n)
        assert not [c.offer for c in got if bad(n.id, c.offer)]
        assert got == list(result.candidates[n.id])  # the single-post call agrees with the whole solve
    for o in inst.offers:
        assert not [c.need for c in engine.candidates_for_offer(o) if bad(c.need, o.id)]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(excluded_instances(complete=True))
def test_removing_the_exclusions_never_lowers_the_objective(doc):
    free = without_exclusions(doc)
    with_ex, without = solve_document(doc), solve_document(free)
    assert without["objective"] >= with_ex["objective"] - 1e-9
    listed = {(n, c["offer"]) for n, cands in with_ex["candidates"].items() for c in cands}
    listed_free = {(n, c["offer"]) for n, cands in without["candidates"].items() for c in cands}
    bad = excluded(doc)
    assert listed == {p for p in listed_free if not bad(*p)}  # exactly the edges the exclusions remove


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(excluded_instances(), st.randoms(use_true_random=False))
def test_the_same_input_gives_the_same_bytes_in_any_order(doc, rnd):
    text = _bytes(doc)
    assert _bytes(json.loads(json.dumps(doc))) == text
    shuffled = json.loads(json.dumps(doc))
    rnd.shuffle(shuffled["exclude_owners"]), rnd.shuffle(shuffled["exclude_pairs"])
    shuffled["exclude_owners"] = [p[::-1] for p in shuffled["exclude_owners"]]  # a pair has no direction
    for n in shuffled["needs"]:
        if n.get("requires"):
            n["requires"] = n["requires"][::-1] + n["requires"][:1]  # order and repeats do not matter
    assert _bytes(shuffled) == text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v2_instances())
def test_exclusions_naming_no_post_change_nothing(doc):
    named = dict(doc, exclude_owners=[["nobody", "a"], [7, "ghost"]], exclude_pairs=[["n-gone", "o0"], ["n0", "o-gone"]])
    assert _bytes(named) == _bytes(doc)
