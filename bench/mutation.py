"""The mutation score of the money and match-lifecycle services: `make mutation`.

mutmut (configured in setup.cfg) copies the code to mutants/, makes each small change (a comparison
flipped, a call removed, a number or string changed) one at a time, and runs the tests that reach
the changed function; a mutant that every test passes is a rule nobody would notice breaking.

This prints, for each group of modules, how many mutants were made, killed and survived and the
score (killed, timeouts included, over all mutants), then every surviving mutant as the line it
changes, and checks each against docs/mutation-survivors.md, where a reviewed survivor has one line
on why it is equivalent or harmless. It exits non-zero below TARGET or with a survivor nobody has
reviewed. Runs on SQLite; races that only PostgreSQL can show are noted in the survivors file.

    python bench/mutation.py            # run (results are cached in mutants/) and report
    python bench/mutation.py --report   # report the last run only
"""
import argparse
import ast
import difflib
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUPS = {
    "fund": ["app/services/fund.py"],
    "match lifecycle": ["app/services/matches.py", "app/services/disclosure.py"],
}
TARGET = 0.90
SURVIVORS_FILE = ROOT / "docs" / "mutation-survivors.md"
KILLED = {1, 3, 36, 24, -24, 152, 255}  # mutmut's exit codes for killed and timed out
SURVIVED = {0}


def _functions(path: Path) -> dict[str, str]:
    source = path.read_text()
    lines = source.splitlines()
    return {node.name: "\n".join(lines[node.lineno - 1:node.end_lineno])
            for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def change_of(functions: dict[str, str], key: str) -> str:
    """The mutant as 'original line -> mutated line' (stripped), from the copies mutmut wrote."""
    name = key.rsplit(".", 1)[1]
    base = name.split("__mutmut_")[0]
    original = functions[f"{base}__mutmut_orig"].replace(f"{base}__mutmut_orig", base).splitlines()
    mutated = functions[name].replace(name, base).splitlines()
    removed, added = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, original, mutated, autojunk=False).get_opcodes():
        if op != "equal":
            removed += [line.strip() for line in original[i1:i2]]
            added += [line.strip() for line in mutated[j1:j2]]
    return f"{' '.join(removed) or '(nothing)'} -> {' '.join(added) or '(removed)'}"


def _key(function: str, change: str) -> str:
    return function + ": " + re.sub(r"\s+", " ", change)


def reviewed() -> dict[str, str]:
    """Rows of the survivors file: | `module.function` | `change` | why |"""
    rows = {}
    if not SURVIVORS_FILE.exists():
        return rows
    for line in SURVIVORS_FILE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) >= 3 and cells[0].startswith("`") and cells[1].startswith("`"):
            rows[_key(cells[0].strip("`"), cells[1].strip("`").replace("\\|", "|"))] = cells[2]
    return rows


def results():
    """{group: [(function, change, status)]} from mutmut's files in mutants/."""
    out = {}
    for group, paths in GROUPS.items():
        rows = []
        for rel in paths:
            copy, meta = ROOT / "mutants" / rel, ROOT / "mutants" / f"{rel}.meta"
            codes = json.loads(meta.read_text())["exit_code_by_key"]
            functions = _functions(copy)
            module = Path(rel).stem
            for key, code in sorted(codes.items(), key=lambda kv: (kv[0].split("__mutmut_")[0],
                                                                   int(kv[0].rsplit("_", 1)[1]))):
                function = f"{module}.{key.rsplit('.', 1)[1].split('__mutmut_')[0].removeprefix('x_')}"
                status = "killed" if code in KILLED else "survived" if code in SURVIVED else \
                    "not checked" if code is None else f"other ({code})"
                rows.append((function, change_of(functions, key), status, key))
        out[group] = rows
    return out


def report() -> int:
    notes = reviewed()
    seen, failing = set(), False
    print(f"{'group':<18}{'mutants':>9}{'killed':>8}{'survived':>10}{'other':>7}{'score':>8}")
    data = results()
    for group, rows in data.items():
        killed = sum(1 for r in rows if r[2] == "killed")
        survived = sum(1 for r in rows if r[2] == "survived")
        score = killed / len(rows) if rows else 0
        failing |= score < TARGET
        print(f"{group:<18}{len(rows):>9}{killed:>8}{survived:>10}{len(rows) - killed - survived:>7}{score:>8.1%}")
    unexplained = 0
    for group, rows in data.items():
        left = [r for r in rows if r[2] != "killed"]
        if not left:
            continue
        print(f"\nSurvivors in {group} ({len(left)}):")
        for function, change, status, key in left:
            k = _key(function, change)
            seen.add(k)
            why = notes.get(k)
            unexplained += why is None
            mark = "  reviewed: " + why if why else "  NOT REVIEWED"
            print(f"  {key.rsplit('.', 1)[1]}  [{status}]\n    {change}\n  {mark}")
    stale = [k for k in notes if k not in seen]
    if stale:
        print(f"\n{len(stale)} reviewed survivors are killed now (or changed); remove them from {SURVIVORS_FILE.name}:")
        for k in stale:
            print("  " + k)
    print(f"\nTarget {TARGET:.0%} per group; {unexplained} survivors not reviewed in {SURVIVORS_FILE.relative_to(ROOT)}.")
    return 1 if failing or unexplained else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="only report the last run")
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()
    if not args.report:
        subprocess.run([str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", str(args.max_children)],
                       cwd=ROOT, check=False)
    return report()


if __name__ == "__main__":
    sys.exit(main())
