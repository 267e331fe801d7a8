"""`python -m matching bench`: generate instances, solve them, check them, print a table.

Each row runs in its own process so its peak memory (ru_maxrss) is its own. Wall time is the
solve (engine build, candidates and assignment); parsing the JSON and building the output
document are shown apart. Rows: `valley:N` and `national:N` (N needs x N offers) and `single:N`
(one new post against N open offers, mean of many calls). `valley2:N` and `national2:N` are the
same instances with version 2's features added (`generate(..., v2=True)`), solved as version 2.
`valleyx:N`, `nationalx:N` and `singlex:N` are version 1's rows with version 2's hard exclusions and
requirements added (`generate(..., exclusions=True)`: 1% of the owners in blocks, 1% of the needs
with an excluded offer, a fifth of the ride needs requiring a licence and insurance).
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def _generate(region: str, size: int, path: str) -> None:
    """Write the row's instance to `path` (run in its own process, so its memory is not counted)."""
    from matching.generate import generate

    v2, ex, base = region.endswith("2"), region.endswith("x"), region.rstrip("2x")
    doc, _truth = generate(size, size, region="valley" if base == "single" else base, seed=11, v2=v2, exclusions=ex)
    with open(path, "w") as f:
        json.dump(doc, f)


def _row(region: str, size: int, path: str) -> dict:
    from matching import Engine, parse_instance, to_document
    from matching.check import check

    t0 = time.perf_counter()
    with open(path) as f:
        instance = parse_instance(json.load(f))
    t_parse = time.perf_counter() - t0
    if region.startswith("single"):
        from matching.generate import generate
        from matching.model import parse_need, parse_offer

        ex = region.endswith("x")
        if ex:  # new posts with requirements (and owners some blocks name) against an instance with exclusions
            from matching.model_v2 import parse_need_v2 as parse_need, parse_offer_v2 as parse_offer
        engine = Engine(instance)
        extra, _ = generate(200, 200, region="valley", seed=99, exclusions=ex)
        new_needs = [parse_need(dict(n, id=f"new-{i}")) for i, n in enumerate(extra["needs"])]
        new_offers = [parse_offer(dict(o, id=f"new-o{i}")) for i, o in enumerate(extra["offers"])]
        engine.candidates_for_need(new_needs[0])
        t0 = time.perf_counter()
        listed = sum(len(engine.candidates_for_need(n)) for n in new_needs)
        t_need = (time.perf_counter() - t0) / len(new_needs)
        t0 = time.perf_counter()
        listed += sum(len(engine.candidates_for_offer(o)) for o in new_offers)
        t_offer = (time.perf_counter() - t0) / len(new_offers)
        return {"row": f"one new post vs {size:,} open offers" + (", exclusions" if ex else ""), "solve_s": None,
                "need_ms": 1000 * t_need, "offer_ms": 1000 * t_offer, "pairs": listed, "peak_mb": _peak_mb(), "parse_s": t_parse}
    t0 = time.perf_counter()
    if region.endswith(("2", "x")):
        from matching import v2

        solved = v2.plan(instance)
        t_solve = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = v2.to_document(solved)
        n_pairs = sum(len(c) for c in out["candidates"].values())
    else:
        engine = Engine(instance)
        pairs, units = engine.solve()
        t_solve = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = to_document(engine, pairs, units)
        n_pairs = len(pairs.need)
    t_doc = time.perf_counter() - t0
    peak = _peak_mb()  # before the checker, which is not part of the engine
    matched = len({a["need"] for a in out["assignment"]})
    with_candidates = sum(1 for c in out["candidates"].values() if c)
    checked = "skipped"
    if size <= 20_000:  # the brute-force checker is quadratic; it runs on the smaller rows
        with open(path) as f:
            report = check(json.load(f), out, sample=100)
        checked = "OK" if report.ok else f"FAIL ({len(report.problems)})"
    return {"row": f"{region}, {size:,} x {size:,}", "solve_s": t_solve, "parse_s": t_parse, "doc_s": t_doc,
            "peak_mb": peak, "pairs": n_pairs, "matched": f"{matched:,} / {with_candidates:,}", "check": checked}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(sizes: str, quick: bool = False) -> int:
    rows = [s.split(":") for s in sizes.split(",")]
    if quick:
        rows = [("valley", "2000"), ("national", "5000"), ("single", "5000")]
    print(f"{'instance':<47} {'solve s':>8} {'peak MB':>8} {'pairs listed':>13} {'needs matched / with candidates':>32} "
          f"{'parse s':>8} {'output s':>9} {'check':>8}")
    for region, size in rows:
        with tempfile.TemporaryDirectory(prefix="matching-bench-") as tmp:
            path = os.path.join(tmp, "instance.json")
            steps = [f"import matching.bench as b; b._generate({region!r}, {int(size)}, {path!r})",
                     f"import json, matching.bench as b; print(json.dumps(b._row({region!r}, {int(size)}, {path!r})))"]
            for code in steps:
                proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"{region}:{size} failed:\n{proc.stderr[-2000:]}")
                    return 1
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        if r["solve_s"] is None:
            print(f"{r['row']:<47} {'':>8} {r['peak_mb']:>8.0f} {r['pairs']:>13,}   "
                  f"per new need {r['need_ms']:.1f} ms, per new offer {r['offer_ms']:.1f} ms")
        else:
            print(f"{r['row']:<47} {r['solve_s']:>8.2f} {r['peak_mb']:>8.0f} {r['pairs']:>13,} {r['matched']:>32} "
                  f"{r['parse_s']:>8.2f} {r['doc_s']:>9.2f} {r['check']:>8}")
        sys.stdout.flush()
    return 0
