"""`roadmap solve` against a plain highspy solve of the naive model, both as fresh processes.

For each scenario document, in the same run and alternating: `python -m services.roadmap.cli
SCENARIO -o PLAN` with default options (the plan, its bound and the left-out reasons; what-if
re-solves are on demand) against `python -m benchmarks.naive_highs SCENARIO` (the naive model
of the document built with highspy, no start, HiGHS defaults). Wall time includes process
start for both. Cases: generated multi-phase scenarios of 40-600 ideas (benchmarks/generated.py)
and the 51 NRP cases. Figures go to docs/benchmarks.md.

    .venv/bin/python -m benchmarks.solve_speed [--sizes 40,90,150,300,600] [--seeds 1,2] [--no-nrp]
        [--cases "nrp-m2 0.5,nrp1 0.7"] [--before /path/to/other/checkout]

`--cases` keeps only the NRP cases named; `--before` also times `roadmap solve` from another
checkout (e.g. `git worktree add /tmp/before main`) in the same run, alternating which of the
two goes first, and checks that both write the same result document (timings aside).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from benchmarks.generated import multi_phase
from benchmarks.nrp import DATA, ORDER, RATIOS
from services.roadmap.optimiser.nrp import nrp_scenario


def timed(command: list[str], checkout: str | None = None) -> tuple[float, str]:
    """Wall time and stdout of `command`; with `checkout`, run with that checkout's code."""
    env = None if checkout is None else {**os.environ, "PYTHONPATH": checkout}
    began = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=checkout)
    return time.perf_counter() - began, done.stdout


def _result(plan: Path) -> dict:
    document = json.loads(plan.read_text())
    document["solver"].pop("seconds")
    return document


def compare(name: str, document: dict, folder: Path, before: str | None = None, first: bool = True) -> dict:
    """Both solves of one document (three with `before`); times, objectives and statuses."""
    path = folder / "scenario.json"
    plan = folder / "scenario.plan.json"
    path.write_bytes(msgspec.json.encode(document))
    naive_s, out = timed([sys.executable, "-m", "benchmarks.naive_highs", str(path)])
    naive = json.loads(out.strip().splitlines()[-1])
    solve = [sys.executable, "-m", "services.roadmap.cli", str(path), "-o"]
    before_s = same = None
    if before is not None and first:
        before_s, _ = timed([*solve, str(folder / "before.plan.json")], before)
    ours_s, _ = timed([*solve, str(plan)])
    if before is not None and not first:
        before_s, _ = timed([*solve, str(folder / "before.plan.json")], before)
    ours = json.loads(plan.read_text())
    if before is not None:
        same = _result(plan) == _result(folder / "before.plan.json")
    return {
        "before_s": before_s,
        "same": same,
        "name": name,
        "ideas": len(document["ideas"]),
        "ours_s": ours_s,
        "naive_s": naive_s,
        "ours_status": ours["status"],
        "naive_status": naive["status"],
        "ours_objective": ours["objective"],
        "naive_objective": naive["objective"],
        "ours_gap": ours["gap"],
    }


def row(r: dict) -> str:
    better = (
        ""
        if r["ours_objective"] is None
        else f"{(r['ours_objective'] - r['naive_objective']) / max(1e-9, abs(r['naive_objective'])):+.3%}"
    )
    gap = "" if r["ours_gap"] is None else f"{r['ours_gap']:.3%}"
    line = (
        f"| {r['name']} | {r['ideas']} | {r['ours_s']:.2f} | {r['naive_s']:.2f} | {r['ours_s'] / r['naive_s']:.2f} "
        f"| {r['ours_status']} ({gap}) | {r['naive_status']} | {better} |"
    )
    if r["before_s"] is not None:
        line += f" {r['before_s']:.2f} | {r['before_s'] / r['naive_s']:.2f} | {'same' if r['same'] else 'DIFFERENT'} |"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="40,90,150,300,600")
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--time-limit", type=float, default=20.0, help="the generated documents' timeLimitSeconds")
    parser.add_argument("--no-nrp", dest="nrp", action="store_false", help="without the 51 NRP cases")
    parser.add_argument("--cases", default=None, help='only these NRP cases, e.g. "nrp-m2 0.5,nrp1 0.7"')
    parser.add_argument("--before", default=None, help="another checkout to time in the same run")
    args = parser.parse_args()
    chosen = None if args.cases is None else {c.strip() for c in args.cases.split(",")}
    cases: list[tuple[str, str, dict]] = []
    for n in (int(s) for s in args.sizes.split(",") if s):
        for seed in (int(s) for s in args.seeds.split(",")):
            document = multi_phase(n, seed)
            document["solver"]["timeLimitSeconds"] = args.time_limit
            cases.append(("generated", f"generated {n}/{seed}", document))
    if args.nrp:
        for name in ORDER:
            nrp = json.loads((DATA / f"{name}.json").read_text())
            for ratio in RATIOS:
                if chosen is None or f"{name} {ratio}" in chosen:
                    cases.append(("nrp", f"{name} {ratio}", nrp_scenario(nrp, ratio, time_limit=600)))
    header = "| case | ideas | ours (s) | naive highspy (s) | ours / naive | ours: status (gap) | naive status | our objective vs naive |"
    if args.before:
        header += " before (s) | before / naive | result |"
    print(header)
    print("|---" * header.count(" |") + "|")
    ratios: dict[str, list[float]] = {}
    before: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, (group, name, document) in enumerate(cases):
            r = compare(name, document, Path(tmp), args.before, first=n % 2 == 0)
            ratios.setdefault(group, []).append(r["ours_s"] / r["naive_s"])
            if r["before_s"] is not None:
                before.setdefault(group, []).append(r["before_s"] / r["naive_s"])
            print(row(r), flush=True)
    print()
    for group, values in ratios.items():
        print(f"Median ours / naive over the {len(values)} {group} cases: {statistics.median(values):.2f} "
              f"(geometric mean {statistics.geometric_mean(values):.2f}).")  # fmt: skip
    for group, values in before.items():
        print(f"Median before / naive over the {len(values)} {group} cases: {statistics.median(values):.2f} "
              f"(geometric mean {statistics.geometric_mean(values):.2f}).")  # fmt: skip


if __name__ == "__main__":
    main()
