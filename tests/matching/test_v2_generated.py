"""Generated version 2 instances (`generate(..., v2=True)`, `python -m matching generate --v2`) pass
the independent checker, use every version 2 feature, and solve to the same bytes every time."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from matching import solve_document
from matching.check import check
from matching.generate import generate

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("region,seed,now", [("valley", 1, None), ("national", 2, None), ("valley", 3, None),
                                             ("valley", 4, "2027-03-10T08:00")])
def test_generated_v2_instances_pass_the_checker(region, seed, now):
    doc, _ = generate(400, 400, region=region, seed=seed, now=now, v2=True)
    report = check(doc, solve_document(doc), sample=0)
    assert report.ok, report.problems[:5]


def test_generated_v2_instances_use_every_feature():
    doc, _ = generate(1000, 1000, region="valley", seed=3, v2=True)
    assert doc["format"] == "mutual-aid-matching/2"
    assert sum(1 for n in doc["needs"] if "occurrences" in n) >= 30
    assert any(o.get("leg") == "return" for n in doc["needs"] for o in n.get("occurrences", []))
    assert sum(1 for o in doc["offers"] if "sessions" in o) >= 20
    out = solve_document(doc)
    kinds = {("standing" if r.get("standing") else "occurrence" if "occurrence" in r else "session" if "session" in r
              else "one-off") for r in out["assignment"]}
    assert kinds == {"standing", "occurrence", "session", "one-off"}
    assert any(v > 0 for v in out["date_objectives"].values())


def test_the_v2_flag_leaves_version_1_generation_alone():
    plain, truth = generate(200, 200, region="valley", seed=5)
    again, _ = generate(200, 200, region="valley", seed=5)
    v2, truth2 = generate(200, 200, region="valley", seed=5, v2=True)
    assert plain == again and truth == truth2 and plain["format"] == "mutual-aid-matching/1"
    assert [n["id"] for n in v2["needs"]] == [n["id"] for n in plain["needs"]]


def _cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "matching", *args], input=stdin, capture_output=True, text=True, cwd=ROOT)


def test_cli_generates_solves_and_checks_v2_byte_identically(tmp_path):
    src = tmp_path / "in.json"
    assert _cli("generate", "--needs", "300", "--offers", "300", "--seed", "7", "--v2", "-o", str(src)).returncode == 0
    first, second = _cli("solve", str(src), "-o", str(tmp_path / "a.json")), _cli("solve", str(src))
    assert first.returncode == 0 and second.returncode == 0
    assert (tmp_path / "a.json").read_text() == second.stdout
    assert json.loads(second.stdout)["format"] == "mutual-aid-matching/2"
    checked = _cli("check", str(src), str(tmp_path / "a.json"), "--sample", "0")
    assert checked.returncode == 0 and checked.stdout.startswith("OK "), checked.stdout


@pytest.mark.parametrize("codes", [False, True])
def test_the_document_built_directly_equals_the_results_dict(codes):
    from matching import parse_instance, v2
    from matching.model_v2 import result_to_dict

    doc, _ = generate(500, 500, region="valley", seed=9, v2=True)
    p = v2.plan(parse_instance(doc))
    assert v2.to_document(p, reason_codes=codes) == result_to_dict(v2.to_result(p), reason_codes=codes)
    assert json.dumps(v2.to_document(p)) == json.dumps(solve_document(doc))
