"""An LP-guided core heuristic: a good plan for a big backlog in the first seconds.

On 10,000 ideas HiGHS spends its first seconds in presolve and its root cut loop, so what we
hand it first is what the user gets. The LP relaxation is solved in a second or two; its
reduced costs say which decisions are settled. Every variable outside the few thousand with
the smallest reduced costs (and the fractional ones) is fixed to its LP value, and the small
MIP that is left is solved briefly. Its plan becomes HiGHS's start for the whole model, and
the LP's objective is a bound on every plan, reported from the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from services.roadmap.optimiser import highs
from services.roadmap.optimiser.instance import Plan
from services.roadmap.optimiser.model import Model

# Models with at least this many variables go through the core first when the time limit
# is short for their size (under `CORE_SECONDS_PER_VARIABLE` each): then what HiGHS finds
# in its first seconds is what the user gets. Otherwise HiGHS alone, from the greedy start,
# finds and proves the optimum sooner (the 51 NRP cases, 1,000-9,000 variables, in seconds).
CORE_FROM_VARIABLES = 3000
CORE_SECONDS_PER_VARIABLE = 0.01


def wants_core(variables: int, time_limit: float) -> bool:
    """Whether a model of this size, under this limit, goes through the core first."""
    return variables >= CORE_FROM_VARIABLES and time_limit < CORE_SECONDS_PER_VARIABLE * variables


# The LP's time even past the limit: its bound is what makes a quick answer's gap meaningful.
LP_FLOOR_SECONDS = 5.0
# Free variables of the successive cores, besides the LP's fractional ones.
CORE_STAGES = (500, 2000, 8000)
# More primal heuristics than HiGHS's default (0.05): a core is solved for its plans, not its proof.
CORE_OPTIONS: dict = {"mip_heuristic_effort": 0.3}
_INTEGRAL = 1e-6


@dataclass(frozen=True)
class Guide:
    """The LP relaxation's answer: its bound on the model's objective, values, reduced costs."""

    bound: float
    values: list[float]
    reduced: list[float]
    seconds: float
    overhead: float  # of `seconds`, handing the model to HiGHS: each core pays it again


def lp_guide(model: Model, *, seconds: float, threads: int | None = None) -> Guide | None:
    """Solve the LP relaxation of `model` within `seconds`; None if it was not solved."""
    began = time.perf_counter()
    # Without presolve: on these models the dual simplex alone is faster (1.4 s against 2.3 s
    # at 10,000 ideas), as presolve removes little.
    lp = highs.solve_lp(model, time_limit=seconds, threads=threads, presolve="off")
    if lp is None:
        return None
    solution = lp.getSolution()
    # PuLP hands HiGHS the negated objective: the LP's optimum, negated, bounds every plan.
    bound = -lp.getInfo().objective_function_value
    seconds = time.perf_counter() - began
    return Guide(bound, list(solution.col_value), list(solution.col_dual), seconds, max(0.0, seconds - lp.getRunTime()))


def core_plan(
    model: Model,
    guide: Guide,
    *,
    seconds: float,
    threads: int | None = None,
    progress: highs.Progress | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> Plan | None:
    """The best plan of the core MIPs around `guide` found within `seconds`, or None.

    Cores grow (`CORE_STAGES` free variables, besides the fractional ones), each starting
    from the plan of the one before: a small core is solved in a moment, and its plan keeps
    the next, harder one from wasting its time looking for a first plan. Each core's free
    set contains the one before, so that plan keeps the larger core's fixings. Stops after
    the largest stage smaller than the model, or when `stopped()` says so.

    `progress` sees the cores' plans with the LP bound (a core's own bound holds only for
    the core). The fixings are undone before returning, whatever happens, so `model` is left
    as it was.
    """
    deadline = time.perf_counter() + seconds
    variables = {var.index: var for var in model.x.values() if hasattr(var, "index")}
    by_cost = sorted(variables, key=lambda n: abs(guide.reduced[n]))
    fractional = {n for n in variables if _INTEGRAL < guide.values[n] < 1 - _INTEGRAL}
    stages = [size for size in CORE_STAGES if size < len(variables)] or [CORE_STAGES[0]]
    best: Plan | None = None
    for k, size in enumerate(stages):
        left = deadline - time.perf_counter()
        if left <= 0.1 or stopped():
            break
        share = left if k == len(stages) - 1 else left / (len(stages) - k + 1)
        # HiGHS's limit leaves room for handing it the model.
        limit = share - guide.overhead
        if limit <= 0.1:
            break
        free = set(by_cost[:size]) | fractional
        best = _solve_core(model, guide, variables, free, limit, best, threads, progress) or best
    return best


def _solve_core(model, guide, variables, free, seconds, start, threads, progress) -> Plan | None:
    report = None
    if progress is not None:
        outer = progress

        def report(plan: Plan | None, _core_bound: float) -> bool:
            return outer(plan, guide.bound)

    saved = {}
    try:
        for n, var in variables.items():
            if n not in free:
                saved[var] = (var.lowBound, var.upBound)
                var.lowBound = var.upBound = float(round(guide.values[n]))
        run = highs.run(model, time_limit=seconds, relative_gap=0.0, start=start, threads=threads, progress=report,
                        options=CORE_OPTIONS)  # fmt: skip
    finally:
        for var, (low, up) in saved.items():
            var.lowBound, var.upBound = low, up
    return run.plan
