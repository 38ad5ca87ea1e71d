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

from benchmarks.naive_highs import solve_document

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
    """(HiGHS's model status, its objective) for the naive model of the document, no start, gap 0.

    The naive model is the benchmarks' (benchmarks/naive_highs.py): the document's rules as rows
    of a highspy model, written apart from the optimiser, as this oracle is.
    """
    exact = {**doc, "solver": {**doc.get("solver", {}), "relativeGap": 0.0}}
    answer = solve_document(exact, time_limit)
    return answer["status"], answer["reported"] if answer["status"] == "Optimal" else None
