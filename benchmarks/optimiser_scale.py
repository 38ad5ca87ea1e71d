"""Scale: customer-journey scenarios of 100, 1,000 and 10,000 ideas, four phases, ten teams.

For each size, in a fresh process (so peak memory is per size):
* time to the first feasible plan: decoding, pre-checks and the greedy start;
* time to a plan within 1% of the bound (relative gap 0.01), up to `--gap-limit` seconds;
* status and gap with a 30-second limit and relative gap 0;
* how much better that plan is than the greedy value-per-cost plan;
* peak resident memory of the process.
Figures go to docs/benchmarks.md.

    .venv/bin/python -m benchmarks.optimiser_scale [--sizes 100,1000,10000] [--limit 30]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time

import msgspec

from services.roadmap.optimiser import SolveConfig, decode_scenario, greedy_plan, plan_value, solve, validate
from services.roadmap.optimiser.diagnose import precheck
from services.roadmap.optimiser.reach import analyse

PHASES = ("discovery", "improve", "perfection", "personalization")
SHARE = (0.15, 0.35, 0.30, 0.20)
TEAMS = ("web", "mobile", "data", "crm", "store", "content", "support", "payments", "search", "platform")
STAGES = ("awareness", "consideration", "purchase", "onboarding", "usage", "loyalty")
PERSONAS = ("first-time buyer", "regular", "business", "senior", "student")


def journey_scenario(n: int, seed: int = 7) -> dict:
    """A reproducible customer-journey scenario with `n` ideas."""
    rng = random.Random(seed)
    ideas = []
    for k in range(n):
        first = rng.choices(range(4), weights=(2, 4, 3, 1))[0]
        last = min(3, first + rng.choice((0, 1, 1, 2, 3)))
        ideas.append(
            {
                "id": f"CJ-{k:05d}",
                "title": f"Idea {k}",
                "value": round(rng.lognormvariate(3.0, 0.8), 1),
                "cost": rng.randrange(5000, 80001, 500),
                "effort": {t: rng.randrange(5, 41) for t in rng.sample(TEAMS, rng.choice((1, 1, 2, 3)))},
                "phases": list(PHASES[first : last + 1]),
                "attributes": {"journeyStage": rng.choice(STAGES), "persona": rng.choice(PERSONAS)},
            }
        )
    total_cost = sum(i["cost"] for i in ideas)
    effort = {t: sum(i["effort"].get(t, 0) for i in ideas) for t in TEAMS}
    constraints: list[dict] = []
    for k in range(1, n):
        if rng.random() < 0.10:
            on = rng.randrange(max(0, k - 50), k)
            constraints.append(
                {"kind": "requires", "idea": ideas[k]["id"], "on": ideas[on]["id"], "finishToStart": rng.random() < 0.3}
            )
    for _ in range(max(1, n // 50)):
        a, b = rng.sample(range(n), 2)
        constraints.append({"kind": "excludes", "ideas": [ideas[a]["id"], ideas[b]["id"]]})
    for k in rng.sample(range(n), max(1, n // 200)):
        constraints.append({"kind": "exclude", "idea": ideas[k]["id"]})
    # Mandatory: cheap ideas free of prerequisites, exclusions and excludes.
    bound = {c["idea"] for c in constraints if c["kind"] in ("requires", "exclude")}
    bound |= {i for c in constraints if c["kind"] == "excludes" for i in c["ideas"]}
    free = [k for k in range(n) if ideas[k]["id"] not in bound]
    cheap = sorted(free, key=lambda k: ideas[k]["cost"])[: max(1, n // 100)]
    constraints += [{"kind": "mandatory", "idea": ideas[k]["id"]} for k in cheap]
    constraints.append({"kind": "coverage", "attribute": "journeyStage", "atLeast": 2})
    return {
        "name": f"customer journey, {n} ideas",
        "phases": [{"key": p, "budget": round(0.35 * total_cost * s, -3)} for p, s in zip(PHASES, SHARE)],
        "teams": [
            {"key": t, "capacity": {p: round(0.4 * effort[t] * s) for p, s in zip(PHASES, SHARE)}} for t in TEAMS
        ],
        "ideas": ideas,
        "constraints": constraints,
        "objective": {"phaseDiscount": dict(zip(PHASES, (1.0, 0.95, 0.85, 0.75)))},
        "solver": {"timeLimitSeconds": 30, "relativeGap": 0.0},
    }


def measure(n: int, limit: float, gap_limit: float) -> dict:
    """All figures for one size (run in its own process)."""
    document = msgspec.json.encode(journey_scenario(n))
    began = time.perf_counter()
    instance = decode_scenario(document)
    reach = analyse(instance)
    assert not precheck(instance, reach)
    start = greedy_plan(instance, reach)
    first = time.perf_counter() - began
    assert start is not None and not validate(instance, start)
    greedy = plan_value(instance, start)

    began = time.perf_counter()
    instance = decode_scenario(document)
    loose = solve(instance, SolveConfig.for_instance(instance, time_limit=gap_limit, gap=0.01, what_if_limit=0))
    to_gap = time.perf_counter() - began

    began = time.perf_counter()
    instance = decode_scenario(document)
    capped = solve(instance, SolveConfig.for_instance(instance, time_limit=limit, gap=0.0, what_if_limit=0))
    capped_seconds = time.perf_counter() - began
    assert capped.plan is not None and not validate(instance, capped.plan, capped.objective)
    return {
        "ideas": n,
        "constraints": len(instance.constraints),
        "variables": sum(len(i.phases) for i in instance.ideas),
        "first_feasible_s": first,
        "gap1_s": to_gap,
        "gap1_status": loose.status,
        "gap1_gap": loose.gap,
        "limit_s": capped_seconds,
        "limit_status": capped.status,
        "limit_gap": capped.gap,
        "objective": capped.objective,
        "bound": capped.best_bound,
        "greedy": greedy,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--limit", type=float, default=30.0)
    parser.add_argument("--gap-limit", type=float, default=120.0)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.limit, args.gap_limit)))
        return
    print(
        f"| ideas | constraints | variables | first feasible plan (s) | to 1% gap (s) | "
        f"at {args.limit:.0f} s: status, gap | optimiser over greedy | peak memory (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        command = [sys.executable, "-m", "benchmarks.optimiser_scale", "--one", str(n)]
        command += ["--limit", str(args.limit), "--gap-limit", str(args.gap_limit)]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        r = json.loads(done.stdout)
        reached = r["gap1_gap"] is not None and r["gap1_gap"] <= 0.01
        gap1 = f"{r['gap1_s']:.2f}" if reached else f"not in {args.gap_limit:.0f} s (gap {r['gap1_gap']:.2%})"
        print(
            f"| {r['ideas']:,} | {r['constraints']:,} | {r['variables']:,} | {r['first_feasible_s']:.2f} | {gap1} "
            f"| {r['limit_status']}, {r['limit_gap']:.3%} ({r['limit_s']:.1f} s) "
            f"| {(r['objective'] - r['greedy']) / r['greedy']:+.2%} | {r['peak_mb']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
