"""Running a built model with HiGHS through PuLP, and reading back what HiGHS really proved.

PuLP 3.3 reports "Optimal" even when HiGHS stopped at its time limit; the truth is in
`prob.sol_status` and HiGHS's own info (model status, dual bound). Neither HiGHS's reported
objective nor the solution read back is trusted alone: HiGHS 1.16, given a start with
presolve on, can report the optimum's objective while `getSolution()` still holds the start.
So the plan read back, the best incumbent the callbacks saw and the reported objective are
compared, the best plan is kept, and when none reaches the reported objective the model is
solved again without the start.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import pulp

from services.roadmap.optimiser.highs_solver import (
    HiGHSWithStart,
    Overran,
    silence_banner,
    solver_version,
    wait_for_solvers,
)
from services.roadmap.optimiser.instance import Plan
from services.roadmap.optimiser.model import Model

__all__ = ["Progress", "Run", "run", "solve_lp", "solver_version", "wait_for_solvers"]


@dataclass(frozen=True)
class Run:
    """What one HiGHS run established, in the model's own objective (value minus tie term).

    `stopped`: the caller's progress function asked to stop during this run; `timed_out`: the
    time limit ended it (HiGHS's own, or the deadline kept here when HiGHS overran it).
    `solver_objective`: the objective HiGHS reported for its best plan (None without one);
    `plan` reaches it unless HiGHS lost that plan and the re-solve could not find it again.
    """

    plan: Plan | None
    infeasible: bool
    proven: bool
    dual_bound: float
    model_status: str
    seconds: float
    overran: bool = False
    stopped: bool = False
    timed_out: bool = False
    solver_objective: float | None = None


# (best plan HiGHS has reported or None, bound on the model's objective) -> go on?
Progress = Callable[[Plan | None, float], bool]


def run(
    model: Model,
    *,
    time_limit: float,
    relative_gap: float,
    start: Plan | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
    options: dict | None = None,
) -> Run:
    """Solve `model` with HiGHS, starting from `start` when it is given.

    `progress`, if given, is called in this thread when HiGHS reports a better plan and about
    once a second; when it returns False the run stops with what HiGHS has found so far.
    `options` are further HiGHS options.
    """
    began = time.perf_counter()
    first = _attempt(model, time_limit, relative_gap, start, threads, progress, options or {})
    if first.lost is None or first.run.stopped:
        return first.run
    # HiGHS reported a better objective than any plan it handed back: solve again from
    # scratch (no start) in the time left, and keep the better of the two runs.
    left = time_limit - (time.perf_counter() - began)
    if left <= 0.01:
        return first.run
    second = _attempt(model, left, relative_gap, None, threads, progress, options or {}).run
    return _combine(model, first.run, second, time.perf_counter() - began)


@dataclass(frozen=True)
class _Attempt:
    run: Run
    lost: float | None  # HiGHS's reported objective (max sense) when no plan reached it


def _attempt(
    model: Model,
    time_limit: float,
    relative_gap: float,
    start: Plan | None,
    threads: int | None,
    progress: Progress | None,
    options: dict,
) -> _Attempt:
    silence_banner()
    began = time.perf_counter()
    if not model.x:
        return _Attempt(_empty(model, began), None)
    values = None
    if start is not None:
        chosen = set(start.assignments)
        values = {var: float(k in chosen) for k, var in model.x.items()}
    watch = None
    if progress is not None:
        report = progress

        def watch(incumbent: list[float] | None, dual_bound: float) -> bool:
            plan = None if incumbent is None else _plan_of(model, incumbent)
            return report(plan, _max_bound(dual_bound))

    # A model fresh from build_model goes to HiGHS with its rows as built, not as PuLP rows.
    solver = HiGHSWithStart(
        values, watch=watch, rows=model.pending_rows(), msg=False, timeLimit=max(0.01, time_limit),
        gapRel=relative_gap, threads=threads, **options,
    )  # fmt: skip
    prob = model.problem()
    try:
        prob.solve(solver)
    except Overran:
        return _Attempt(_overran(model, solver, began), None)
    highs = prob.solverModel
    status = highs.getModelStatus()
    info = highs.getInfo()
    # An interrupted run maps to "integer feasible" in PuLP even without a solution.
    has_plan = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    has_plan = has_plan and info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    candidates = []
    if has_plan:
        candidates.append(list(highs.getSolution().col_value))
    incumbent, _ = solver.seen()
    if incumbent is not None:
        candidates.append(incumbent)
    best = min(candidates, key=solver.objective_of, default=None)
    lost = None
    reported = None
    if has_plan:
        reported = -info.objective_function_value
        achieved = -solver.objective_of(best)
        if achieved < reported - 1e-6 * max(1.0, abs(reported)):
            lost = reported
    interrupted = status == highspy.HighsModelStatus.kInterrupt
    result = Run(
        plan=None if best is None else _plan_of(model, best),
        infeasible=status == highspy.HighsModelStatus.kInfeasible,
        proven=status == highspy.HighsModelStatus.kOptimal and lost is None,
        dual_bound=min(_max_bound(info.mip_dual_bound), _max_bound(solver.seen()[1])),
        model_status=highs.modelStatusToString(status),
        seconds=time.perf_counter() - began,
        stopped=solver.stopped,
        timed_out=status == highspy.HighsModelStatus.kTimeLimit or (interrupted and solver.deadline_hit),
        solver_objective=reported,
    )
    return _Attempt(result, lost)


def _combine(model: Model, first: Run, second: Run, seconds: float) -> Run:
    """The better plan of two runs of the same model, with the tighter of their bounds."""
    plans = [r.plan for r in (first, second) if r.plan is not None]
    best = max(plans, key=lambda p: _value(model, p), default=None)
    proven = second.proven and best is second.plan
    return Run(
        plan=best,
        infeasible=second.infeasible,
        proven=proven,
        dual_bound=min(first.dual_bound, second.dual_bound),
        model_status=f"{second.model_status} (solved again without the start, which hid the best plan)",
        seconds=seconds,
        overran=second.overran,
        stopped=second.stopped,
        timed_out=second.timed_out and not proven,
        solver_objective=second.solver_objective,
    )


def _value(model: Model, plan: Plan) -> float:
    # The model's objective of a plan, from PuLP's expression (not HiGHS's answer).
    chosen = {model.x[k] for k in plan.assignments}
    return math.fsum(c for var, c in model.problem().objective.items() if var in chosen)


def solve_lp(model: Model, *, time_limit: float, threads: int | None = None, **options) -> highspy.Highs | None:
    """Solve the LP relaxation of `model`; HiGHS with its duals and ranging, or None if not optimal.

    Row `n` of HiGHS is the constraint whose `.index` is n (PuLP sets it when building).
    `options` are HiGHS options (e.g. presolve="off").
    """
    silence_banner()
    if not model.x:
        return None
    solver = HiGHSWithStart(None, mip=False, msg=False, timeLimit=max(0.01, time_limit), threads=threads, **options)
    model.prob.solve(solver)
    h = model.prob.solverModel
    return h if h.getModelStatus() == highspy.HighsModelStatus.kOptimal else None


def _max_bound(dual_bound: float) -> float:
    # PuLP hands HiGHS a minimisation of the negated objective: negate the bound back.
    return -dual_bound if math.isfinite(dual_bound) else math.inf


def _plan_of(model: Model, values: list[float]) -> Plan:
    # A variable in no row and not in the objective is not in HiGHS's model: it is 0.
    chosen = [k for k, var in model.x.items() if hasattr(var, "index") and values[var.index] > 0.5]
    return Plan(assignments=tuple(sorted(chosen)))


def _empty(model: Model, began: float) -> Run:
    # No variables: the only plan is the empty one; the rows decide whether it is feasible.
    feasible = all(c.valid() for c in model.prob.constraints())
    return Run(
        plan=Plan(assignments=()) if feasible else None,
        infeasible=not feasible,
        proven=True,
        dual_bound=0.0,
        model_status="empty model",
        seconds=time.perf_counter() - began,
    )


def _overran(model: Model, solver: HiGHSWithStart, began: float) -> Run:
    incumbent, dual_bound = solver.seen()
    why = "Interrupted (HiGHS did not stop at once" if solver.stopped else "Time limit reached (HiGHS overran it"
    return Run(
        plan=None if incumbent is None else _plan_of(model, incumbent),
        infeasible=False,
        proven=False,
        dual_bound=_max_bound(dual_bound),
        model_status=f"{why}; stopped waiting)",
        seconds=time.perf_counter() - began,
        overran=True,
        stopped=solver.stopped,
        timed_out=not solver.stopped,
    )
