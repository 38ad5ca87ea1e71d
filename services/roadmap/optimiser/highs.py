"""Running a built model with HiGHS through PuLP, and reading back what HiGHS really proved.

PuLP 3.3 reports "Optimal" even when HiGHS stopped at its time limit; the truth is in
`prob.sol_status` and HiGHS's own info (model status, dual bound). PuLP's HiGHS class has no
warm start, so a subclass hands HiGHS the starting plan just before it runs.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import pulp

from services.roadmap.optimiser.instance import Plan
from services.roadmap.optimiser.model import Model

_GRACE_SECONDS = 0.5
_PROGRESS_SECONDS = 1.0
_banner_lock = threading.Lock()
_banner_done = False


def _silence_banner() -> None:
    """HiGHS prints a banner to stdout the first time a solver is created in a process."""
    global _banner_done
    with _banner_lock:
        if _banner_done:
            return
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _banner_done = True


def solver_version() -> str:
    """The HiGHS version in use, e.g. '1.16.0'."""
    _silence_banner()
    h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


class _Overran(Exception):
    """HiGHS did not stop when asked: the run ends with what the callbacks saw so far."""


# (incumbent column values or None, HiGHS's dual bound on its minimisation) -> go on?
_Watcher = Callable[[list[float] | None, float], bool]


class _HiGHSWithStart(pulp.HiGHS):
    def __init__(
        self, start: dict[pulp.LpVariable, float] | None, *, watch: _Watcher | None = None, **options
    ) -> None:
        super().__init__(**options)
        self._start = start
        self._watch = watch
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._interrupt_requested = False
        self.incumbent: list[float] | None = None
        self.dual_bound = -math.inf
        self.stopped = False

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:
        # PuLP adds one column and one row per call; passing them in bulk is the same model,
        # built in a fraction of the time, with the indices PuLP's result reader expects.
        highs, inf = lp.solverModel, highspy.kHighsInf
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        variables = lp.variables()
        objective = lp.objective
        costs, lower, upper, integers = [], [], [], []
        for n, var in enumerate(variables):
            var.index = n
            costs.append(sign * objective.get(var, 0.0))
            lower.append(-inf if var.lowBound is None else var.lowBound)
            upper.append(inf if var.upBound is None else var.upBound)
            if var.cat == pulp.LpInteger and self.mip:
                integers.append(n)
        highs.addCols(len(costs), costs, lower, upper, 0, [], [], [])
        if integers:
            kinds = [highspy.HighsVarType.kInteger] * len(integers)
            highs.changeColsIntegrality(len(integers), integers, kinds)
        row_lower, row_upper, starts, index, value = [], [], [], [], []
        for n, constraint in enumerate(lp._constraints.values()):
            constraint.index = n
            starts.append(len(index))
            for var, coefficient in constraint.items():
                if coefficient != 0:
                    index.append(var.index)
                    value.append(coefficient)
            lb, ub = constraint.getLb(), constraint.getUb()
            row_lower.append(-inf if lb is None else lb)
            row_upper.append(inf if ub is None else ub)
        if starts:
            highs.addRows(len(starts), row_lower, row_upper, len(index), starts, index, value)

    def callSolver(self, lp: pulp.LpProblem) -> None:
        highs = lp.solverModel
        if self._start:
            values = [0.0] * highs.getNumCol()
            for var, value in self._start.items():
                values[var.index] = value
            solution = highspy.HighsSolution()
            solution.col_value = values
            solution.value_valid = True
            highs.setSolution(solution)
        # HiGHS checks its time limit only between steps: the root cut loop of a large model
        # can run minutes past it without checking either the limit or an interrupt. So HiGHS
        # runs in a thread of its own while callbacks record the incumbent and the bound, and
        # this thread waits, reports progress, and at the deadline (or the caller's stop) ends
        # the run with those, leaving HiGHS to stop in the background. highspy's own
        # startSolve/wait keep their locks on the class, so two solves in one process (a
        # worker's threads) would refuse each other: the thread here is ours.
        highs.cbMipImprovingSolution.subscribe(self._improved)
        highs.cbMipInterrupt.subscribe(self._interrupt)
        finished = threading.Event()

        def work() -> None:
            try:
                highs.run()
            finally:
                finished.set()
                self._wake.set()

        threading.Thread(target=work, name="highs", daemon=True).start()
        deadline = time.perf_counter() + self.timeLimit + _GRACE_SECONDS
        while not finished.is_set():
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            self._wake.wait(min(_PROGRESS_SECONDS, left))
            self._wake.clear()
            if finished.is_set() or self._watch is None:
                continue
            if not self._watch(*self.seen()):
                self.stopped = True
                break
        if not finished.is_set():
            self._interrupt_requested = True
            finished.wait(_GRACE_SECONDS)
        if not finished.is_set():
            raise _Overran

    def seen(self) -> tuple[list[float] | None, float]:
        """The latest incumbent and dual bound the callbacks recorded."""
        with self._lock:
            return self.incumbent, self.dual_bound

    def _improved(self, event) -> None:
        # Called in HiGHS's thread: record and wake the waiting thread, nothing more.
        with self._lock:
            self.incumbent = list(event.data_out.mip_solution)
        self._note_bound(event)
        self._wake.set()

    def _interrupt(self, event) -> None:
        self._note_bound(event)
        if self._interrupt_requested:
            event.interrupt()

    def _note_bound(self, event) -> None:
        bound = event.data_out.mip_dual_bound
        if math.isfinite(bound):
            with self._lock:
                self.dual_bound = max(self.dual_bound, bound)


@dataclass(frozen=True)
class Run:
    """What one HiGHS run established, in the model's own objective (value minus tie term).

    `stopped`: the caller's progress function asked to stop during this run; `timed_out`: the
    time limit ended it (HiGHS's own, or the deadline kept here when HiGHS overran it).
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
) -> Run:
    """Solve `model` with HiGHS, starting from `start` when it is given.

    `progress`, if given, is called in this thread when HiGHS reports a better plan and about
    once a second; when it returns False the run stops with what HiGHS has found so far.
    """
    _silence_banner()
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

    solver = _HiGHSWithStart(
        values,
        watch=watch,
        msg=False,
        timeLimit=max(0.01, time_limit),
        gapRel=relative_gap,
        threads=threads,
    )
    began = time.perf_counter()
    if not model.x:
        return _empty(model, began)
    try:
        model.prob.solve(solver)
    except _Overran:
        return _overran(model, solver, began)
    seconds = time.perf_counter() - began
    highs = model.prob.solverModel
    status = highs.getModelStatus()
    info = highs.getInfo()
    # An interrupted run maps to "integer feasible" in PuLP even without a solution.
    has_plan = model.prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    has_plan = has_plan and info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    return Run(
        plan=model.plan() if has_plan else None,
        infeasible=status == highspy.HighsModelStatus.kInfeasible,
        proven=status == highspy.HighsModelStatus.kOptimal,
        dual_bound=_max_bound(info.mip_dual_bound),
        model_status=highs.modelStatusToString(status),
        seconds=seconds,
        stopped=solver.stopped,
        timed_out=status == highspy.HighsModelStatus.kTimeLimit,
    )


def solve_lp(model: Model, *, time_limit: float, threads: int | None = None) -> highspy.Highs | None:
    """Solve the LP relaxation of `model`; HiGHS with its duals and ranging, or None if not optimal.

    Row `n` of HiGHS is the constraint whose `.index` is n (PuLP sets it when building).
    """
    _silence_banner()
    if not model.x:
        return None
    solver = _HiGHSWithStart(None, mip=False, msg=False, timeLimit=max(0.01, time_limit), threads=threads)
    model.prob.solve(solver)
    h = model.prob.solverModel
    return h if h.getModelStatus() == highspy.HighsModelStatus.kOptimal else None


def _max_bound(dual_bound: float) -> float:
    # PuLP hands HiGHS a minimisation of the negated objective: negate the bound back.
    return -dual_bound if math.isfinite(dual_bound) else math.inf


def _plan_of(model: Model, values: list[float]) -> Plan:
    chosen = [k for k, var in model.x.items() if values[var.index] > 0.5]
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


def _overran(model: Model, solver: _HiGHSWithStart, began: float) -> Run:
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
