"""docs/matching-format.md's examples are what the engine reads and writes, and its version 2 error
table names messages the parser gives."""
import json
import re
from pathlib import Path

import pytest

from matching import solve_document
from matching.check import check

DOC = (Path(__file__).resolve().parents[2] / "docs" / "matching-format.md").read_text()


def _blocks(section: str) -> list:
    body = DOC.split(f"### {section}\n", 2)[-1].split("\n### ")[0]
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", body, re.S)]


@pytest.mark.parametrize("section", ["Version 1", "Version 2", "Version 2 with exclusions"])
def test_each_example_gives_the_output_shown(section):
    given, expected = _blocks(section)
    out = solve_document(given)
    assert out == expected
    assert check(given, out, sample=0).ok


def test_the_error_table_quotes_real_messages():
    from matching.model_v2 import parse_need_v2, parse_offer_v2  # noqa: F401  (the messages live there)

    source = (Path(__file__).resolve().parents[2] / "matching" / "model_v2.py").read_text()
    for phrase in ["cannot both be given", "must be a list of 1 to", "is used twice", "is not after its start",
                   "shorter than 'duration_min'", "use 'out' or 'return'", "cannot be combined with 'when' or 'weekly'"]:
        assert phrase in DOC and phrase in source
