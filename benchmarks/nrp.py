"""NRP: the 17 public Next Release Problem instances at ratios 0.3, 0.5, 0.7 (51 cases).

Each case is converted to a scenario document and solved through the same path as
`roadmap solve` (decode, pre-checks, greedy start, PuLP model, HiGHS, validator, left-out
reasons; the optional what-if re-solves are off). Its objective must equal the proven optimum
in `benchmarks/data/nrp/optima-halfup.csv`. In the same run the same pipeline is timed with
the model built directly with highspy instead of PuLP (decode, greedy start, highspy model,
HiGHS from the same start): our time over that time is the overhead of modelling with PuLP.

    .venv/bin/python -m benchmarks.nrp [--only nrp1,nrp-e1] [--time-limit 600]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from pathlib import Path

import msgspec

from benchmarks.direct_highs import solve_direct
from services.roadmap.optimiser import SolveConfig, decode_scenario, encode_result, result_document, solve
from services.roadmap.optimiser.greedy import greedy_plan
from services.roadmap.optimiser.instance import plan_value
from services.roadmap.optimiser.nrp import nrp_scenario

DATA = Path(__file__).parent / "data" / "nrp"
RATIOS = ("0.3", "0.5", "0.7")
ORDER = [f"nrp{i}" for i in range(1, 6)] + [f"nrp-{s}{i}" for s in "egm" for i in range(1, 5)]


def optima() -> dict[tuple[str, str], float]:
    """Proven optimum of each (instance, ratio) at the half-up budget."""
    with (DATA / "optima-halfup.csv").open() as f:
        return {(r["instance"], r["ratio"]): float(r["objective"]) for r in csv.DictReader(f)}


def solve_document(document: bytes, time_limit: float) -> tuple[dict, float]:
    """The `roadmap solve` path on a document in memory; returns (result document, seconds)."""
    began = time.perf_counter()
    instance = decode_scenario(document)
    solution = solve(instance, SolveConfig.for_instance(instance, time_limit=time_limit, what_if_limit=0))
    encoded = encode_result(result_document(instance, solution))
    return json.loads(encoded), time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated instance names")
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args()
    names = [n for n in ORDER if not args.only or n in args.only.split(",")]
    known = optima()
    print(
        "| instance | ratio | budget | proven optimum | ours | status | match | ours (s) | with highspy model (s) | ours / highspy | greedy | optimum over greedy |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    matched = total = 0
    ratios: list[tuple[str, float, float]] = []
    for name in names:
        nrp = json.loads((DATA / f"{name}.json").read_text())
        for ratio in RATIOS:
            document = msgspec.json.encode(nrp_scenario(nrp, ratio, time_limit=args.time_limit))
            result, ours = solve_document(document, args.time_limit)
            began = time.perf_counter()
            instance = decode_scenario(document)
            start = greedy_plan(instance)
            prepared = time.perf_counter() - began
            greedy = plan_value(instance, start) if start else 0.0
            direct_value, direct, _ = solve_direct(instance, start, args.time_limit)
            direct += prepared
            best = known[name, ratio]
            ok = result["status"] == "optimal" and math.isclose(result["objective"], best, rel_tol=1e-6)
            ok = ok and math.isclose(direct_value, best, rel_tol=1e-6)
            matched += ok
            total += 1
            ratios.append((name, ours, direct))
            budget = instance.phases[0].budget
            print(
                f"| {name} | {ratio} | {budget:.0f} | {best:.0f} | {result['objective']:.0f} | {result['status']} "
                f"| {'yes' if ok else 'NO'} | {ours:.2f} | {direct:.2f} | {ours / direct:.2f} | {greedy:.0f} "
                f"| {(best - greedy) / greedy:+.1%} |",
                flush=True,
            )
    large = [o / d for n, o, d in ratios if n.startswith("nrp-") or n in ("nrp3", "nrp4", "nrp5")]
    everything = [o / d for _, o, d in ratios]
    print()
    print(f"Proven optima reached: {matched} of {total}.")
    if everything:
        print(
            f"Ours / highspy: geometric mean {_gmean(everything):.2f} over all cases, {_gmean(large):.2f} over the large instances (nrp3-5, nrp-e/g/m)."
        )
        print(f"Total: ours {sum(o for _, o, _ in ratios):.1f} s, highspy {sum(d for _, _, d in ratios):.1f} s.")


def _gmean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


if __name__ == "__main__":
    main()
