"""The naive model of a scenario document, built and solved with plain highspy: the baseline.

What someone would write from docs/scenario-format.md in an afternoon: a binary per idea and
eligible phase, each rule a row, the value as the objective, no start, no tie-break, no
presolve of our own, HiGHS's defaults (relative gap from the document). Run as its own
process, as `roadmap solve` is, so both pay their process start:

    python -m benchmarks.naive_highs SCENARIO.json [--time-limit S]   -> one JSON line
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import highspy
import numpy as np


def solve_document(doc: dict, time_limit: float | None = None) -> dict:
    """Build and solve; the objective, HiGHS's status and bound, and the plan's assignments."""
    phases = [p["key"] for p in doc["phases"]]
    order = {p: n for n, p in enumerate(phases)}
    discount = doc.get("objective", {}).get("phaseDiscount", {})
    ideas = {i["id"]: i for i in doc["ideas"]}
    keys = [(i["id"], p) for i in doc["ideas"] for p in i.get("phases", phases)]
    col = {k: n for n, k in enumerate(keys)}
    eligible = {i: [p for p in idea.get("phases", phases)] for i, idea in ideas.items()}
    lower, upper, starts, index, value = [], [], [], [], []
    inf = highspy.kHighsInf

    def row(lo: float, hi: float, terms) -> None:
        terms = [(col[k], a) for k, a in terms if k in col and a != 0]
        starts.append(len(index))
        lower.append(lo)
        upper.append(hi)
        index.extend(n for n, _ in terms)
        value.extend(a for _, a in terms)

    def done(i: str, last: int | None = None):
        return [((i, p), 1.0) for p in eligible[i] if last is None or order[p] <= last]

    for i in ideas:
        row(-inf, 1.0, done(i))
    for phase in doc["phases"]:
        row(-inf, phase["budget"], [((i, phase["key"]), idea["cost"]) for i, idea in ideas.items()])
    for team in doc.get("teams", []):
        for p in phases:
            terms = [((i, p), idea.get("effort", {}).get(team["key"], 0)) for i, idea in ideas.items()]
            row(-inf, team["capacity"].get(p, 0), terms)
    for c in doc.get("constraints", []):
        kind = c["kind"]
        if kind == "mandatory":
            row(1.0, inf, done(c["idea"]))
        elif kind == "pin":
            row(1.0, inf, [((c["idea"], c["phase"]), 1.0)])
        elif kind == "exclude":
            row(-inf, 0.0, done(c["idea"]))
        elif kind == "requires":
            for p in eligible[c["idea"]]:
                last = order[p] - (1 if c.get("finishToStart", False) else 0)
                row(-inf, 0.0, done(c["idea"], order[p]) + [(k, -a) for k, a in done(c["on"], last)])
        elif kind == "excludes":
            row(-inf, 1.0, [t for i in c["ideas"] for t in done(i)])
        elif kind == "coverage":
            groups: dict[str, list[str]] = {}
            for idea in doc["ideas"]:
                if c["attribute"] in idea.get("attributes", {}):
                    groups.setdefault(json.dumps(idea["attributes"][c["attribute"]]), []).append(idea["id"])
            for members in groups.values():
                terms = [((i, p), 1.0) for i in members for p in eligible[i] if c.get("phase", p) == p]
                row(c["atLeast"], inf, terms)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    solver = doc.get("solver", {})
    h.setOptionValue("time_limit", float(time_limit or solver.get("timeLimitSeconds", 60.0)))
    h.setOptionValue("mip_rel_gap", float(solver.get("relativeGap", 0.0)))
    n = len(keys)
    cost = np.array([-ideas[i]["value"] * discount.get(p, 1.0) for i, p in keys])
    h.addCols(
        n, cost, np.zeros(n), np.ones(n), 0, np.array([], dtype=np.int32), np.array([], dtype=np.int32), np.array([])
    )
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n))
    h.addRows(len(lower), np.array(lower), np.array(upper), len(index), np.array(starts, dtype=np.int32),
              np.array(index, dtype=np.int32), np.array(value))  # fmt: skip
    h.run()
    info = h.getInfo()
    values = h.getSolution().col_value
    chosen = [k for k, v in zip(keys, values) if v > 0.5]
    return {
        "status": h.modelStatusToString(h.getModelStatus()),
        "objective": sum(ideas[i]["value"] * discount.get(p, 1.0) for i, p in chosen),
        "reported": -info.objective_function_value,
        "bound": -info.mip_dual_bound,
        "assignments": chosen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--time-limit", type=float, default=None)
    args = parser.parse_args()
    began = time.perf_counter()
    with open(args.scenario, "rb") as f:
        doc = json.load(f)
    result = solve_document(doc, args.time_limit)
    result["seconds"] = time.perf_counter() - began
    del result["assignments"]
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
