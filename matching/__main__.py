"""Command line: `python -m matching solve IN.json -o OUT.json`, `bench`, `generate`, `check`.

Exit status 2 with a one-line message (no traceback) for a malformed instance.
"""
from __future__ import annotations

import argparse
import json
import sys


def _read(path: str | None):
    if path in (None, "-"):
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _write(doc: dict, path: str | None) -> None:
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    if path in (None, "-"):
        sys.stdout.write(text + "\n")
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")


def cmd_solve(a) -> int:
    from matching import InstanceError, solve_document

    try:
        doc = _read(a.instance)
    except FileNotFoundError:
        print(f"error: no such file: {a.instance}", file=sys.stderr)
        return 2
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        print(f"error: the instance is not valid JSON: {exc}", file=sys.stderr)
        return 2
    try:
        out = solve_document(doc)
    except InstanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _write(out, a.output)
    return 0


def cmd_generate(a) -> int:
    from matching.generate import generate

    inst, truth = generate(a.needs, a.offers, region=a.region, seed=a.seed, now=a.now, v2=a.v2, exclusions=a.exclusions)
    _write(inst, a.output)
    if a.truth:
        _write(truth, a.truth)
    return 0


def cmd_check(a) -> int:
    from matching.check import check

    report = check(_read(a.instance), _read(a.solution), sample=a.sample,
                   truth=_read(a.truth) if a.truth else None)
    for problem in report.problems[:20]:
        print("PROBLEM:", problem)
    print(("OK " if report.ok else f"FAIL ({len(report.problems)} problems) ") + report.summary())
    return 0 if report.ok else 1


def cmd_bench(a) -> int:
    from matching.bench import run

    return run(a.sizes, quick=a.quick)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m matching", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="solve an instance")
    s.add_argument("instance", nargs="?", help="input JSON (stdin when omitted)")
    s.add_argument("-o", "--output", help="output JSON (stdout when omitted)")
    s.set_defaults(func=cmd_solve)
    g = sub.add_parser("generate", help="write a synthetic instance")
    g.add_argument("--needs", type=int, default=1000)
    g.add_argument("--offers", type=int, default=1000)
    g.add_argument("--region", choices=["valley", "national"], default="valley")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--now", help="local reference time, e.g. 2027-03-10T08:00")
    g.add_argument("--truth", help="also write {post id: topic} here")
    g.add_argument("--v2", action="store_true", help="a version 2 instance: repeating needs and group offers")
    g.add_argument("--exclusions", action="store_true",
                   help="version 2 with exclusions: blocks between owners, excluded pairs, requirements on rides")
    g.add_argument("-o", "--output")
    g.set_defaults(func=cmd_generate)
    c = sub.add_parser("check", help="check a solution against its instance")
    c.add_argument("instance")
    c.add_argument("solution")
    c.add_argument("--sample", type=int, default=400, help="needs checked for recall (0 = all)")
    c.add_argument("--truth")
    c.set_defaults(func=cmd_check)
    b = sub.add_parser("bench", help="generate, solve, check and print a table of numbers")
    b.add_argument("--sizes", default="valley:10000,national:100000,national:1000000,single:100000",
                   help="comma-separated region:size rows (single = one new post against that many offers)")
    b.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    b.set_defaults(func=cmd_bench)
    a = ap.parse_args(argv)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
