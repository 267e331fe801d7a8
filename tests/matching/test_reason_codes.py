"""Reason codes: the engine's reasons as codes with values, which an application words in its
reader's language. Version 1's English phrases are exactly the phrases of the codes, and the output
document carries the codes only when the input asks for them."""
import json

import pytest

import matching
from matching import solve_document
from matching.generate import generate
from matching.model import parse_instance
from matching.reasons import phrase
from tests.matching.helpers import instance, need, offer


@pytest.mark.parametrize("region,seed", [("valley", 5), ("national", 6)])
def test_every_phrase_is_the_phrase_of_its_code_in_solve_and_single_post_calls(region, seed):
    doc, _ = generate(400, 400, region=region, seed=seed)
    result = matching.solve(parse_instance(doc))
    cands = [c for cs in result.candidates.values() for c in cs]
    assert cands and all(len(c.reason_codes) == len(c.reasons) for c in cands)
    assert all(tuple(phrase(code) for code in c.reason_codes) == c.reasons for c in cands)
    assert {code[0] for c in cands for code in c.reason_codes} >= {"same_kind", "distance_km", "free"}
    engine = matching.Engine(parse_instance(doc))
    for n in engine.instance.needs[:40]:
        for c in engine.candidates_for_need(n, top_k=3):
            assert tuple(phrase(code) for code in c.reason_codes) == c.reasons


def test_the_output_document_carries_codes_only_when_asked():
    doc = instance([need(urgency=3)], [offer(title="Rides to the clinic on weekdays")])
    plain = solve_document(doc)
    assert "reason_codes" not in json.dumps(plain)  # version 1 output, byte for byte as before
    asked = solve_document(dict(doc, reason_codes=True))
    cand = asked["candidates"]["n1"][0]
    assert cand["reasons"] == plain["candidates"]["n1"][0]["reasons"]
    assert cand["reason_codes"][0][0] == "same_kind" and "clinic" in cand["reason_codes"][0][1]
    assert ["near"] in cand["reason_codes"] and ["urgent", 3] in cand["reason_codes"]
    assert json.loads(json.dumps(asked)) == asked  # plain JSON: lists, numbers and strings


def test_each_code_reads_as_the_version_1_phrase():
    assert phrase(("distance_km", 4)) == "4 km away" and phrase(("near",)) == "under 1 km away"
    assert phrase(("free", 90, "requested")) == "free 1 h 30 min in the requested time"
    assert phrase(("free", 60, "two_weeks")) == "free 1 h in the next two weeks"
    assert phrase(("offers", "household_items")) == "offers household items"
    assert phrase(("waiting", 9)) == "waiting 9 days" and phrase(("urgent", 2)) == "urgent: within 48 hours"
    with pytest.raises(ValueError):
        phrase(("made_up",))
