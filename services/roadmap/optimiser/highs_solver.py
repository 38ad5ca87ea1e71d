"""PuLP's HiGHS solver class, extended: bulk model building, a start, callbacks, our own deadline.

PuLP's HiGHS class has no warm start and waits for HiGHS without limit; this subclass hands
HiGHS the starting plan, runs it in a thread of its own while callbacks record the best
incumbent and the bound, and ends the run at its deadline or when the caller asks.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable

import highspy
import pulp

GRACE_SECONDS = 0.5
_PROGRESS_SECONDS = 1.0
_banner_lock = threading.Lock()
_banner_done = False
# Threads in which HiGHS still runs (it may outlive a run that stopped waiting for it).
_running: set[threading.Thread] = set()
_running_lock = threading.Lock()


def silence_banner() -> None:
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
    silence_banner()
    h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def wait_for_solvers(seconds: float) -> bool:
    """Wait up to `seconds` for HiGHS threads still stopping; True once none runs.

    A process must not exit while HiGHS runs in another thread: its thread pool is torn
    down under it and the C++ runtime aborts the process (exit 134).
    """
    deadline = time.perf_counter() + seconds
    while True:
        with _running_lock:
            threads = list(_running)
        if not threads:
            return True
        left = deadline - time.perf_counter()
        if left <= 0:
            return False
        threads[0].join(left)


def _pulp_status(status: highspy.HighsModelStatus) -> tuple[int, int]:
    """PuLP's (status, solution status) for HiGHS's model status, as PuLP's HiGHS class maps it."""
    kind = highspy.HighsModelStatus
    if status == kind.kOptimal:
        return pulp.LpStatusOptimal, pulp.LpSolutionOptimal
    if status in (kind.kInfeasible, kind.kUnboundedOrInfeasible):
        return pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible
    if status == kind.kUnbounded:
        return pulp.LpStatusUnbounded, pulp.LpSolutionUnbounded
    stopped = (kind.kInterrupt, kind.kTimeLimit, kind.kIterationLimit, kind.kObjectiveBound, kind.kObjectiveTarget)
    if status in stopped:
        return pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible
    return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound


class Overran(Exception):
    """HiGHS did not stop when asked: the run ends with what the callbacks saw so far."""


# (incumbent column values or None, HiGHS's dual bound on its minimisation) -> go on?
Watcher = Callable[[list[float] | None, float], bool]


class HiGHSWithStart(pulp.HiGHS):
    """PuLP's HiGHS with a start, callbacks that keep the best incumbent, and a deadline."""

    def __init__(
        self,
        start: dict[pulp.LpVariable, float] | None,
        *,
        watch: Watcher | None = None,
        rows: list[tuple[str, dict, int, float]] | None = None,
        **options,
    ) -> None:
        """`rows`: the model's rows as (name, {variable: coefficient}, PuLP sense, rhs), for a
        problem that holds only the variables and the objective (model.py); None: PuLP's rows."""
        super().__init__(**options)
        self._start = start
        self._watch = watch
        self._rows = rows
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._interrupt_requested = False
        self.costs: list[float] = []  # HiGHS's (minimised) objective, by column
        self.incumbent: list[float] | None = None
        self.incumbent_objective = math.inf
        self.dual_bound = -math.inf
        self.stopped = False  # the caller's progress function asked to stop
        self.deadline_hit = False  # our own deadline ended the run

    def objective_of(self, values: list[float]) -> float:
        """HiGHS's objective of a column vector, binaries rounded as a plan reads them."""
        return math.fsum(c for c, v in zip(self.costs, values) if v > 0.5)

    def actualSolve(self, lp: pulp.LpProblem) -> int:
        # PuLP's own version then copies every value and dual into its variables and rows;
        # plans are read from HiGHS's columns by index (highs.py), so only the status is set.
        self.createAndConfigureSolver(lp)
        self.buildSolverModel(lp)
        self.callSolver(lp)
        lp.assignStatus(*_pulp_status(lp.solverModel.getModelStatus()))
        return lp.status

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
        self.costs = costs
        highs.addCols(len(costs), costs, lower, upper, 0, [], [], [])
        if integers:
            kinds = [highspy.HighsVarType.kInteger] * len(integers)
            highs.changeColsIntegrality(len(integers), integers, kinds)
        row_lower, row_upper, starts, index, value = [], [], [], [], []
        if self._rows is None:
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
        else:
            # The same rows as PuLP's would give, bounds included: PuLP keeps `0.0 - rhs` as
            # the row's constant and reports `-constant` as its bound.
            le, ge = pulp.LpConstraintLE, pulp.LpConstraintGE
            for _name, terms, sense, rhs in self._rows:
                starts.append(len(index))
                for var, coefficient in terms.items():
                    if coefficient != 0:
                        index.append(var.index)
                        value.append(coefficient)
                bound = -(0.0 - rhs)
                row_lower.append(-inf if sense == le else bound)
                row_upper.append(inf if sense == ge else bound)
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
        # can run minutes past it. So HiGHS runs in a thread of its own while callbacks record
        # the incumbent and the bound, and this thread waits, reports progress, and at the
        # deadline (or the caller's stop) interrupts HiGHS and ends the run with what the
        # callbacks saw. (Interrupting its LP solves too, through the simplex callback, made
        # HiGHS 1.16 run on for minutes in the root cut loop.) highspy's own
        # startSolve/wait keep their locks on the class, so two solves in one process (a
        # worker's threads) would refuse each other: the thread here is ours.
        highs.cbMipImprovingSolution.subscribe(self._improved)
        highs.cbMipInterrupt.subscribe(self._interrupt)
        finished = threading.Event()

        def work() -> None:
            try:
                highs.run()
            finally:
                with _running_lock:
                    _running.discard(threading.current_thread())
                finished.set()
                self._wake.set()

        thread = threading.Thread(target=work, name="highs", daemon=True)
        with _running_lock:
            _running.add(thread)
        thread.start()
        deadline = time.perf_counter() + self.timeLimit + GRACE_SECONDS
        while not finished.is_set():
            left = deadline - time.perf_counter()
            if left <= 0:
                self.deadline_hit = True
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
            finished.wait(GRACE_SECONDS)
        if not finished.is_set():
            raise Overran

    def seen(self) -> tuple[list[float] | None, float]:
        """The best incumbent and the dual bound the callbacks recorded."""
        with self._lock:
            return self.incumbent, self.dual_bound

    def _improved(self, event) -> None:
        # Called in HiGHS's thread: keep the best incumbent and wake the waiting thread.
        values = list(event.data_out.mip_solution)
        objective = self.objective_of(values)
        with self._lock:
            if objective < self.incumbent_objective:
                self.incumbent, self.incumbent_objective = values, objective
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
