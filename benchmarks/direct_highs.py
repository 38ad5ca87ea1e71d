"""The optimiser's model built directly with highspy (no PuLP): the baseline for its overhead.

Columns and rows are in the same order as the PuLP model, with the same coefficients, so
HiGHS sees the same problem and the time difference is the cost of modelling through PuLP.
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from services.roadmap.optimiser.instance import Instance, Plan, Requires
from services.roadmap.optimiser.model import tie_weight


def solve_direct(instance: Instance, start: Plan | None, time_limit: float) -> tuple[float, float, str]:
    """Build and solve with highspy; return (value of the plan found, seconds, model status)."""
    began = time.perf_counter()
    keys = [(i, p) for i, idea in enumerate(instance.ideas) for p in idea.phases]
    col = {k: n for n, k in enumerate(keys)}
    if instance.teams or any(not isinstance(c, Requires) for c in instance.constraints):
        raise ValueError("the direct model covers NRP scenarios: budgets and requires only")
    weight = tie_weight(instance)
    cost = np.array([-(instance.value_in(i, p) - weight * instance.ideas[i].cost) for i, p in keys])
    lower, upper, starts, index, value = [], [], [], [], []

    def row(lo: float, hi: float, terms: list[tuple[int, float]]) -> None:
        starts.append(len(index))
        lower.append(lo)
        upper.append(hi)
        for c, v in terms:
            index.append(c)
            value.append(v)

    inf = highspy.kHighsInf
    by_idea: dict[int, list[int]] = {}
    for (i, _p), n in col.items():
        by_idea.setdefault(i, []).append(n)
    for cols in by_idea.values():
        if len(cols) > 1:
            row(-inf, 1.0, [(n, 1.0) for n in cols])
    for p, phase in enumerate(instance.phases):
        terms = [(col[i, p], idea.cost) for i, idea in enumerate(instance.ideas) if (i, p) in col and idea.cost > 0]
        if terms:
            row(-inf, phase.budget, terms)
    # Requires rows, the only other kind in an NRP scenario, in constraint order.
    for c in instance.constraints:
        for p in instance.ideas[c.idea].phases:
            before = p - 1 if c.finish_to_start else p
            terms = [(col[c.idea, q], 1.0) for q in instance.ideas[c.idea].phases if q <= p]
            terms += [(col[c.on, q], -1.0) for q in instance.ideas[c.on].phases if q <= before]
            row(-inf, 0.0, terms)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", 0.0)
    n = len(keys)
    h.addCols(
        n, cost, np.zeros(n), np.ones(n), 0, np.array([], dtype=np.int32), np.array([], dtype=np.int32), np.array([])
    )
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n))
    h.addRows(
        len(lower),
        np.array(lower),
        np.array(upper),
        len(index),
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value),
    )
    if start is not None:
        chosen = set(start.assignments)
        solution = highspy.HighsSolution()
        solution.col_value = [float(k in chosen) for k in keys]
        solution.value_valid = True
        h.setSolution(solution)
    h.run()
    seconds = time.perf_counter() - began
    values = h.getSolution().col_value
    plan_value = sum(instance.value_in(i, p) for (i, p), v in zip(keys, values) if v > 0.5)
    return plan_value, seconds, h.modelStatusToString(h.getModelStatus())
