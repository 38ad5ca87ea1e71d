"""An independent judge of plans, written from docs/scenario-format.md, not from the optimiser.

It reads the scenario document (a dict, as a user writes it) and a plan given as
{idea id: phase key}, and shares no code with the optimiser's validator, value function or
model, so a misunderstanding of the rules in the optimiser does not pass unseen. The brute
force enumerates plans with it; `highs_optimum` solves its own naive model with plain highspy.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import highspy

Doc = dict[str, Any]
Assignment = dict[str, str]


def _phases(doc: Doc) -> list[str]:
    return [p["key"] for p in doc["phases"]]


def eligible(doc: Doc, idea: Doc) -> list[str]:
    """An idea's eligible phases: its `phases`, or every phase when it has none listed."""
    return list(idea["phases"]) if "phases" in idea else _phases(doc)


def discount(doc: Doc, phase: str) -> float:
    """The phase's discount; a phase not listed gets 1."""
    return doc.get("objective", {}).get("phaseDiscount", {}).get(phase, 1.0)


def value(doc: Doc, plan: Assignment) -> float:
    """Sum of value x phase discount over the chosen ideas."""
    ideas = {i["id"]: i for i in doc["ideas"]}
    return sum(ideas[i]["value"] * discount(doc, p) for i, p in plan.items())


def _at_most(used: float, limit: float) -> bool:
    return used <= limit + 1e-9 * max(1.0, abs(limit))


def feasible(doc: Doc, plan: Assignment) -> bool:
    """Whether `plan` keeps every rule of the document."""
    ideas = {i["id"]: i for i in doc["ideas"]}
    order = {p: n for n, p in enumerate(_phases(doc))}
    for i, p in plan.items():
        if p not in eligible(doc, ideas[i]):
            return False
    for phase in doc["phases"]:
        spend = sum(ideas[i]["cost"] for i, p in plan.items() if p == phase["key"])
        if not _at_most(spend, phase["budget"]):
            return False
    for team in doc.get("teams", []):
        for phase in _phases(doc):
            use = sum(ideas[i].get("effort", {}).get(team["key"], 0) for i, p in plan.items() if p == phase)
            if not _at_most(use, team["capacity"].get(phase, 0)):
                return False
    return all(_keeps(doc, c, plan, order) for c in doc.get("constraints", []))


def _keeps(doc: Doc, c: Doc, plan: Assignment, order: dict[str, int]) -> bool:
    kind = c["kind"]
    if kind == "mandatory":
        return c["idea"] in plan
    if kind == "pin":
        return plan.get(c["idea"]) == c["phase"]
    if kind == "exclude":
        return c["idea"] not in plan
    if kind == "requires":
        if c["idea"] not in plan:
            return True
        if c["on"] not in plan:
            return False
        gap = order[plan[c["idea"]]] - order[plan[c["on"]]]
        return gap > 0 if c.get("finishToStart", False) else gap >= 0
    if kind == "excludes":
        return sum(1 for i in c["ideas"] if i in plan) <= 1
    if kind == "coverage":
        counts: dict[str, int] = {}
        for idea in doc["ideas"]:
            if c["attribute"] in idea.get("attributes", {}):
                counts.setdefault(json.dumps(idea["attributes"][c["attribute"]]), 0)
        for i, p in plan.items():
            idea = next(x for x in doc["ideas"] if x["id"] == i)
            if c["attribute"] in idea.get("attributes", {}) and ("phase" not in c or c["phase"] == p):
                counts[json.dumps(idea["attributes"][c["attribute"]])] += 1
        return all(n >= c["atLeast"] for n in counts.values())
    raise ValueError(f"unknown constraint kind {kind!r}")


def penalty(doc: Doc, plan: Assignment) -> float:
    """The baseline's move penalty: one `movePenalty` per approved idea moved or dropped
    (approved ideas no longer in the scenario are ignored)."""
    baseline = doc.get("baseline")
    if not baseline:
        return 0.0
    present = {i["id"] for i in doc["ideas"]}
    moved = sum(1 for a in baseline["assignments"] if a["idea"] in present and plan.get(a["idea"]) != a["phase"])
    return baseline["movePenalty"] * moved


def cost(doc: Doc, plan: Assignment) -> float:
    """Total cost of the chosen ideas."""
    return sum(i["cost"] for i in doc["ideas"] if i["id"] in plan)


def brute_force(doc: Doc) -> tuple[float, float] | None:
    """(best value less move penalty, least cost among plans worth that) over every plan,
    or None when no plan keeps the rules."""
    choices = [[None, *eligible(doc, idea)] for idea in doc["ideas"]]
    best = None
    for combo in itertools.product(*choices):
        plan = {idea["id"]: p for idea, p in zip(doc["ideas"], combo) if p is not None}
        if not feasible(doc, plan):
            continue
        v, c = value(doc, plan) - penalty(doc, plan), cost(doc, plan)
        if best is None or v > best[0] + 1e-9 or (abs(v - best[0]) <= 1e-9 and c < best[1]):
            best = (v, c)
    return best


def highs_optimum(doc: Doc, time_limit: float = 20.0) -> tuple[str, float | None]:
    """(HiGHS's model status, its objective) for a naive model of the document, no start."""
    keys = [(idea["id"], p) for idea in doc["ideas"] for p in eligible(doc, idea)]
    col = {k: n for n, k in enumerate(keys)}
    ideas = {i["id"]: i for i in doc["ideas"]}
    order = {p: n for n, p in enumerate(_phases(doc))}
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", time_limit)
    h.setOptionValue("mip_rel_gap", 0.0)
    inf = highspy.kHighsInf
    for i, p in keys:
        h.addVar(0.0, 1.0)
        h.changeColCost(col[i, p], -ideas[i]["value"] * discount(doc, p))
        h.changeColIntegrality(col[i, p], highspy.HighsVarType.kInteger)

    def row(lo: float, hi: float, terms: list[tuple[tuple[str, str], float]]) -> None:
        terms = [(col[k], a) for k, a in terms if k in col]
        h.addRow(lo, hi, len(terms), [n for n, _ in terms], [a for _, a in terms])

    def done(i: str, last: int | None = None) -> list[tuple[tuple[str, str], float]]:
        return [((i, p), 1.0) for p in eligible(doc, ideas[i]) if last is None or order[p] <= last]

    for i in ideas:
        row(-inf, 1.0, done(i))
    for phase in doc["phases"]:
        row(-inf, phase["budget"], [((i, phase["key"]), ideas[i]["cost"]) for i in ideas])
    for team in doc.get("teams", []):
        for p in _phases(doc):
            terms = [((i, p), ideas[i].get("effort", {}).get(team["key"], 0)) for i in ideas]
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
            for p in eligible(doc, ideas[c["idea"]]):
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
                row(
                    c["atLeast"],
                    inf,
                    [((i, p), 1.0) for i in members for p in eligible(doc, ideas[i]) if c.get("phase", p) == p],
                )
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return status, None
    return status, -h.getInfo().objective_function_value
