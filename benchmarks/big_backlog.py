"""A good plan in the first seconds on big backlogs: ours at a short limit against the naive
highspy model at a long one, in the same run (issue 10, item 4).

* 10,000 ideas, 4 phases, 20 teams, prerequisites, excludes, mandatory ideas, coverage:
  `roadmap solve`'s path at 10 s against the naive model at 60 s;
* 2,000 ideas: ours at 5 s against the naive model at 30 s.
Ours is `solve()` in this process (decode included), with each improved plan's time and
value as progress reports them; the naive model is benchmarks/naive_highs.py.

    .venv/bin/python -m benchmarks.big_backlog [--seeds 1,2] [--journey-seeds 1] [--sizes 10000,2000]
"""

from __future__ import annotations

import argparse
import json
import time

from benchmarks.generated import multi_phase
from benchmarks.naive_highs import solve_document
from benchmarks.optimiser_scale import journey_scenario
from services.roadmap.optimiser import SolveConfig, decode_scenario, solve, validate

LIMITS = {10_000: (10.0, 60.0), 2_000: (5.0, 30.0)}


def ours(document: dict, limit: float) -> tuple[dict, list[tuple[float, float]]]:
    began = time.perf_counter()
    instance = decode_scenario(json.dumps(document).encode())
    improved: list[tuple[float, float]] = []

    def progress(p) -> bool:
        if p.objective is not None and (not improved or p.objective > improved[-1][1]):
            improved.append((time.perf_counter() - began, p.objective))
        return True

    solution = solve(
        instance, SolveConfig.for_instance(instance, time_limit=limit, what_if_limit=0), on_progress=progress
    )
    assert solution.plan is not None and not validate(instance, solution.plan, solution.objective)
    seconds = time.perf_counter() - began
    return {"objective": solution.objective, "bound": solution.best_bound, "gap": solution.gap,
            "seconds": seconds, "status": solution.status}, improved  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,2000")
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--journey-seeds", default="1", help="also optimiser_scale's journey scenarios (10 teams)")
    args = parser.parse_args()
    print(
        "| ideas | scenario | ours: limit, wall (s) | ours: objective, gap | naive: limit, wall (s) | naive: objective, its gap | ours over naive | our plans as found (s: objective) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        short, long = LIMITS[n]
        cases = [
            (f"generated, 20 teams, seed {s}", multi_phase(n, int(s), teams=20)) for s in args.seeds.split(",") if s
        ]
        cases += [
            (f"journey, 10 teams, seed {s}", journey_scenario(n, int(s))) for s in args.journey_seeds.split(",") if s
        ]
        for label, document in cases:
            mine, improved = ours(document, short)
            began = time.perf_counter()
            naive = solve_document(document, long)
            naive_s = time.perf_counter() - began
            naive_gap = (naive["bound"] - naive["objective"]) / abs(naive["bound"])
            found = ", ".join(f"{t:.1f}: {v:,.0f}" for t, v in improved)
            print(
                f"| {n:,} | {label} | {short:.0f}, {mine['seconds']:.1f} | {mine['objective']:,.1f}, {mine['gap']:.3%} "
                f"| {long:.0f}, {naive_s:.1f} | {naive['objective']:,.1f}, {naive_gap:.3%} "
                f"| {(mine['objective'] - naive['objective']) / naive['objective']:+.3%} | {found} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
