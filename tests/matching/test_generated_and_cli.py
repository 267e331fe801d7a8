import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from matching import solve_document
from matching.check import check
from matching.generate import generate
from tests.matching.helpers import instance, need, offer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("region,seed", [("valley", 1), ("national", 2), ("valley", 3)])
def test_generated_instances_pass_the_checker(region, seed):
    doc, _ = generate(300, 300, region=region, seed=seed)
    report = check(doc, solve_document(doc), sample=0)
    assert report.ok, report.problems[:5]


def test_generated_instance_across_dst_passes_the_checker():
    doc, _ = generate(300, 300, region="valley", seed=4, now="2027-03-10T08:00")
    report = check(doc, solve_document(doc), sample=0)
    assert report.ok, report.problems[:5]


def test_top_candidate_has_the_needs_topic_on_valley_instances():
    doc, truth = generate(1500, 1500, region="valley", seed=8)
    out = solve_document(doc)
    tops = [truth[n] == truth[c[0]["offer"]] for n, c in out["candidates"].items() if c]
    assert len(tops) > 1000 and sum(tops) / len(tops) >= 0.90


def _cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "matching", *args], input=stdin, capture_output=True, text=True, cwd=ROOT)


def test_cli_output_is_byte_identical_across_runs(tmp_path):
    doc, _ = generate(200, 200, region="valley", seed=5)
    src = tmp_path / "in.json"
    src.write_text(json.dumps(doc))
    first, second = _cli("solve", str(src), "-o", str(tmp_path / "a.json")), _cli("solve", str(src))
    assert first.returncode == 0 and second.returncode == 0
    assert (tmp_path / "a.json").read_text() == second.stdout


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: d["needs"][0].pop("category"), "need 'n1' (needs[0]): 'category' must be a non-empty string"),
    (lambda d: d["offers"][0]["weekly"].append({"day": "funday", "start": "09:00", "end": "10:00"}), "offer 'o1' (offers[0]): 'weekly[0].day' is 'funday'"),
    (lambda d: d["needs"][0]["when"][0].update(end="2026-12-08T08:00-06:00"), "need 'n1' (needs[0]): 'when[0].end' is not after its start"),
    (lambda d: d["offers"][0].update(tz="Mars/Olympus"), "offer 'o1' (offers[0]): 'tz' 'Mars/Olympus' is not a known IANA time zone"),
    (lambda d: d["needs"][0].update(lat=200), "need 'n1' (needs[0]): 'lat' is 200"),
    (lambda d: d["offers"][0].update(capacity=0), "offer 'o1' (offers[0]): 'capacity' must be a positive whole number"),
])
def test_bad_input_names_the_post_and_field_and_exits_2(mutate, expected):
    doc = instance([need()], [offer()])
    mutate(doc)
    proc = _cli("solve", stdin=json.dumps(doc))
    assert proc.returncode == 2 and proc.stdout == ""
    assert expected in proc.stderr and "Traceback" not in proc.stderr


def test_not_json_exits_2():
    proc = _cli("solve", stdin="{not json")
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr and "Traceback" not in proc.stderr


def test_matching_imports_nothing_from_the_web_app():
    forbidden = {"app", "flask", "sqlalchemy", "flask_sqlalchemy", "flask_login", "wtforms"}
    for path in (ROOT / "matching").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not {n.split(".")[0] for n in names} & forbidden, (path.name, names)
    code = "import sys, matching, matching.__main__, matching.bench, matching.check, matching.generate; " \
           "print(sorted({m.split('.')[0] for m in sys.modules} & %r))" % forbidden
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
