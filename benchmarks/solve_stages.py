"""Where the default `roadmap solve` path spends its time, stage by stage, on NRP cases.

In one process per checkout, each stage of `solve()` is run on its own, as the solve path
runs it, several times; the fastest run of each is reported (the machine is shared: the
minimum is the figure least disturbed by other work). Imports are timed in fresh
processes: `import services.roadmap.cli` against the naive baseline's `import highspy,
numpy, json, argparse`. HiGHS's own search is left out (it is the same model either way);
the hand-off is building HiGHS's model from PuLP's.

    .venv/bin/python -m benchmarks.solve_stages [--rounds 5] [--cases "nrp-m2 0.5,nrp-e1 0.3"]

Run it with PYTHONPATH pointing at another checkout to time that one's code.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import msgspec

from benchmarks.nrp import DATA
from services.roadmap.optimiser import SolveConfig, decode_scenario, encode_result, result_document, solve
from services.roadmap.optimiser.diagnose import precheck
from services.roadmap.optimiser.explain import explain
from services.roadmap.optimiser.greedy import greedy_plan
from services.roadmap.optimiser.highs_solver import HiGHSWithStart
from services.roadmap.optimiser.idle import drop_idle_ideas
from services.roadmap.optimiser.model import build_model
from services.roadmap.optimiser.nrp import nrp_scenario
from services.roadmap.optimiser.reach import analyse
from services.roadmap.optimiser.validate import validate

STAGES = ["decode", "reach+precheck", "greedy", "model", "hand-off", "idle+validate", "explain", "result"]


def import_seconds(code: str, rounds: int) -> float:
    """The fastest of `rounds` fresh interpreters running `code` (interpreter start included)."""
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - began)
    return min(times)


def stages(data: bytes) -> dict[str, float]:
    """One pass over the solve path's stages; seconds per stage."""
    out: dict[str, float] = {}

    def timed(name, f, *args, **kwargs):
        began = time.perf_counter()
        value = f(*args, **kwargs)
        out[name] = out.get(name, 0.0) + time.perf_counter() - began
        return value

    instance = timed("decode", decode_scenario, data)
    reach = timed("reach+precheck", analyse, instance)
    timed("reach+precheck", precheck, instance, reach)
    timed("greedy", greedy_plan, instance, reach)
    model = timed("model", build_model, instance, reach=reach)
    # As highs.run hands it over: the rows as built where the model keeps them aside (an
    # older checkout has only PuLP's rows).
    rows = model.pending_rows() if hasattr(model, "pending_rows") else None
    problem = model.prob if rows is None else model.problem()
    solver = HiGHSWithStart(None, msg=False) if rows is None else HiGHSWithStart(None, msg=False, rows=rows)

    def hand_off() -> None:
        solver.createAndConfigureSolver(problem)
        solver.buildSolverModel(problem)

    timed("hand-off", hand_off)
    solution = solve(instance, SolveConfig.for_instance(instance, what_if_limit=0))
    plan = solution.plan
    timed("idle+validate", drop_idle_ideas, instance, plan)
    timed("idle+validate", validate, instance, plan)
    timed("explain", explain, instance, reach, plan, solution.status, SolveConfig(what_if_limit=0))
    timed("result", lambda: encode_result(result_document(instance, solution)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", default="nrp-m2 0.5,nrp-e1 0.3,nrp-g3 0.3,nrp1 0.7")
    args = parser.parse_args()
    ours = import_seconds("import services.roadmap.cli", args.rounds)
    naive = import_seconds("import highspy, numpy, json, argparse", args.rounds)
    print(f"imports, fresh process (s): ours {ours:.3f}, naive {naive:.3f}")
    print("| case | " + " | ".join(STAGES) + " | sum |")
    print("|---|" + "---|" * (len(STAGES) + 1))
    for case in args.cases.split(","):
        name, ratio = case.split()
        data = msgspec.json.encode(nrp_scenario(json.loads((DATA / f"{name}.json").read_text()), ratio))
        runs = [stages(data) for _ in range(args.rounds)]
        best = {s: min(r[s] for r in runs) for s in STAGES}
        cells = " | ".join(f"{1000 * best[s]:.0f}" for s in STAGES)
        print(f"| {case} | {cells} | {1000 * sum(best.values()):.0f} |", flush=True)


if __name__ == "__main__":
    main()
