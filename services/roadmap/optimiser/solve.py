"""`solve(instance, config) -> Solution`: the whole optimisation of one scenario.

1. Pre-checks prove the common infeasibilities without a solver.
2. A greedy plan is built and handed to HiGHS as its start, so a run stopped by the time
   limit still has a plan whenever the greedy found one.
3. HiGHS solves the model within the time limit (counted from the start of `solve`),
   reporting progress to the caller, who may stop it (see progress.py).
4. Chosen ideas that add no value and that nothing needs are dropped (idle.py).
5. The plan is re-checked by the validator; the objective is recomputed from it; the status
   says `optimal` only when the bound proves it.
6. Left-out ideas are explained, or an infeasible scenario is diagnosed.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import msgspec

from services.roadmap.optimiser import highs
from services.roadmap.optimiser.conflict import conflict_set
from services.roadmap.optimiser.core import LP_FLOOR_SECONDS, core_plan, lp_guide, wants_core
from services.roadmap.optimiser.diagnose import precheck
from services.roadmap.optimiser.explain import explain
from services.roadmap.optimiser.greedy import greedy_plan
from services.roadmap.optimiser.idle import drop_idle_ideas
from services.roadmap.optimiser.instance import (
    Instance,
    Plan,
    baseline_penalty,
    penalty_offset,
    plan_cost,
    plan_score,
    plan_value,
)
from services.roadmap.optimiser.model import build_model, max_plan_cost, tie_weight, value_grid
from services.roadmap.optimiser.progress import (
    CALLER,
    COMPLETED,
    DIAGNOSE,
    EXPLAIN,
    SEARCH,
    TIME_LIMIT,
    Caller,
    OnProgress,
    Progress,
)
from services.roadmap.optimiser.reach import analyse
from services.roadmap.optimiser.solution import (
    FEASIBLE,
    INFEASIBLE,
    OPTIMAL,
    UNKNOWN,
    Solution,
    SolveConfig,
    Stats,
)
from services.roadmap.optimiser.validate import validate

# After the LP-guided core, the whole model runs only if at least this many LP solves' worth
# of time is left: below that HiGHS spends it all in presolve and its root.
WHOLE_AFTER_LP_SOLVES = 12
EXPLAIN_SECONDS_PER_IDEA = 1.5e-4


class InvalidPlanError(RuntimeError):
    """The solver returned a plan the validator rejects: a bug, never shown as a result."""


def solve(
    instance: Instance,
    config: SolveConfig | None = None,
    *,
    on_progress: OnProgress | None = None,
    started: float | None = None,
) -> Solution:
    """Find the best plan for `instance` within the configured time limit and gap.

    `on_progress(Progress) -> bool` is called in this thread (never in HiGHS's) with the best
    plan so far: once the greedy start is built, whenever HiGHS finds a better plan, and
    about once a second until `solve` returns. Returning False stops the solve soon after,
    with the best plan so far (validated, `optimal` only if the bound proves it) and
    `stats.stop_reason == "caller"`; left-out what-ifs not yet run are then skipped.

    The time limit counts from `started` (a `time.perf_counter()` reading; default: now), so
    a caller can include what it did before, such as reading the document.
    """
    config = config or SolveConfig.for_instance(instance)
    began = time.perf_counter() if started is None else started
    caller = Caller(on_progress, began)
    reach = analyse(instance)

    def stats(
        model_status: str, greedy: float | None, ran: int = 0, skipped: int = 0, timed_out: bool = False
    ) -> Stats:
        return Stats(
            solver="HiGHS",
            solver_version=highs.solver_version(),
            time_limit_seconds=config.time_limit_seconds,
            relative_gap=config.relative_gap,
            seconds=time.perf_counter() - began,
            model_status=model_status,
            greedy_objective=greedy,
            explained_what_if=ran,
            skipped_what_if=skipped,
            stop_reason=CALLER if caller.stopped else TIME_LIMIT if timed_out else COMPLETED,
        )

    conflicts = precheck(instance, reach)
    if conflicts:
        return Solution(INFEASIBLE, None, None, None, None, stats("infeasible (pre-check)", None), tuple(conflicts))
    start = greedy_plan(instance, reach)
    greedy_value = None if start is None else plan_value(instance, start)
    best = _Best(instance, reach, start, caller)
    # The left-out reasons come after the search, within the limit: about 0.13 ms an idea.
    reserve = min(0.15 * config.time_limit_seconds, EXPLAIN_SECONDS_PER_IDEA * len(instance.ideas))
    run, lp_bound = _search(instance, config, began - reserve, best, caller)  # its clock runs ahead
    dual_bound = min(run.dual_bound, lp_bound)
    if best.offer(run.plan) and caller.listening and not caller.stopped:
        # HiGHS's last plan can come after its last callback: the caller hears of it too.
        best.report(None, dual_bound)
    if best.plan is not None:  # same score, every rule kept, never dearer (idle.py)
        best.plan = drop_idle_ideas(instance, best.plan)
    plan = best.plan
    if plan is None:
        if run.infeasible:
            diagnosing = Progress(caller.elapsed(), DIAGNOSE, None, None, None, None)
            watch = _ticker(caller, diagnosing)
            conflicts = conflict_set(instance, config.diagnosis_seconds, config.threads, watch)
            return Solution(INFEASIBLE, None, None, None, None, stats(run.model_status, None), tuple(conflicts))
        bound = min(dual_bound + best.weight * max_plan_cost(instance), _trivial_bound(instance, reach))
        bound -= penalty_offset(instance)
        return Solution(UNKNOWN, None, None, bound, None, stats(run.model_status, None, timed_out=run.timed_out))
    violations = validate(instance, plan)
    if violations:
        raise InvalidPlanError("; ".join(v.message for v in violations))
    m = measure(instance, reach, best.weight, plan, dual_bound)
    status = OPTIMAL if m.proven else FEASIBLE
    if caller.stopped:
        config = msgspec.structs.replace(config, what_if_limit=0)
    explaining = Progress(caller.elapsed(), EXPLAIN, m.objective, m.bound, m.gap, plan, m.with_penalty)
    left_out, ran, skipped = explain(instance, reach, plan, status, config, _ticker(caller, explaining))
    timed_out = run.timed_out and status != OPTIMAL
    return Solution(
        status,
        plan,
        m.objective,
        m.bound,
        m.gap,
        stats(run.model_status, greedy_value, ran, skipped, timed_out),
        (),
        tuple(left_out),
        baseline_penalty=None if instance.baseline is None else baseline_penalty(instance, plan),
        objective_with_penalty=m.with_penalty,
    )


def _search(
    instance: Instance, config: SolveConfig, began: float, best: _Best, caller: Caller
) -> tuple[highs.Run, float]:
    """HiGHS's run on the whole model, from the best start we have; and the LP's bound, if solved.

    A big model under a short limit first goes through the LP-guided core (core.py), whose
    plan becomes the start.
    Its LP is solved even when the limit leaves it less than `LP_FLOOR_SECONDS`: a bound
    from the LP, not the sum of all values, is what makes a quick answer's gap meaningful.
    The whole model then gets the time left, unless so little is left that HiGHS would spend
    it all in presolve and its root (about a dozen LP solves' worth): the core's plan is then
    the answer.
    """

    def left() -> float:
        return config.time_limit_seconds - (time.perf_counter() - began)

    if not best.report(None, math.inf):
        return _not_run("not started: stopped by the caller", stopped=True), math.inf
    model = build_model(instance, reach=best.reach)
    progress = best.report if caller.listening else None

    def whole_run() -> highs.Run:
        return highs.run(model, time_limit=left(), relative_gap=config.relative_gap, start=best.plan,
                         threads=config.threads, progress=progress)  # fmt: skip

    if not wants_core(len(model.x), config.time_limit_seconds):
        return whole_run(), math.inf
    guide = lp_guide(model, seconds=max(left() / 2, LP_FLOOR_SECONDS), threads=config.threads)
    if guide is None:
        return whole_run(), math.inf
    if progress is not None and not progress(None, guide.bound):
        return _not_run("stopped by the caller after the LP relaxation", stopped=True), guide.bound
    whole = left() >= WHOLE_AFTER_LP_SOLVES * guide.seconds
    if left() > 0.5:
        seconds = min(left() / 2, 30.0) if whole else left()
        found = core_plan(model, guide, seconds=seconds, threads=config.threads, progress=progress,
                          stopped=lambda: caller.stopped)  # fmt: skip
        if best.offer(found) and progress is not None:
            progress(None, guide.bound)  # a core's last plan can come after its last callback
    if caller.stopped:
        return _not_run("stopped by the caller after the core heuristic", stopped=True), guide.bound
    if not whole or left() <= 0.05:
        return _not_run("LP-guided core only: too little time left for the whole model", timed_out=True), guide.bound
    return whole_run(), guide.bound


def _not_run(why: str, *, stopped: bool = False, timed_out: bool = False) -> highs.Run:
    return highs.Run(plan=None, infeasible=False, proven=False, dual_bound=math.inf, model_status=why,
                     seconds=0.0, stopped=stopped, timed_out=timed_out)  # fmt: skip


class Measure(NamedTuple):
    """A plan's objective with the bound and gap a HiGHS run gives it."""

    objective: float  # the pure value sum
    with_penalty: float | None  # the value minus the move penalty paid; None without a baseline
    bound: float  # on the objective with penalty (on the objective, without a baseline)
    gap: float
    proven: bool


def measure(instance: Instance, reach, weight: float, plan: Plan, dual_bound: float) -> Measure:
    """The plan's objective, and the bound and gap HiGHS's `dual_bound` gives it.

    `proven`: no plan of the model HiGHS solved scores more (within half a value-grid step).
    """
    # Bounds are worked out on the solver's scale (`plan_score`, on the value grid) and moved
    # to the objective with penalty at the end by subtracting a constant.
    score = plan_score(instance, plan)
    bound = _best_bound(instance, reach, weight, dual_bound, score)
    proven = _proven(instance, score, bound)
    objective = plan_value(instance, plan)
    penalised = objective - baseline_penalty(instance, plan)
    if proven and value_grid(instance) is not None:
        bound = penalised  # within half a grid step of a grid value: the bound is the objective
    else:
        bound -= penalty_offset(instance)
    with_penalty = None if instance.baseline is None else penalised
    return Measure(objective, with_penalty, bound, _gap(penalised, bound), proven)


class _Best:
    """The best valid plan seen so far (the greedy start or a HiGHS incumbent), reported to the caller."""

    def __init__(self, instance: Instance, reach, start: Plan | None, caller: Caller) -> None:
        self.instance, self.reach, self.caller = instance, reach, caller
        self.weight = tie_weight(instance)
        self.plan = start

    def _key(self, plan: Plan) -> float:
        # The solver's own objective: score (value, and penalty avoided) minus the cost tie-break.
        return plan_score(self.instance, plan) - self.weight * plan_cost(self.instance, plan)

    def offer(self, found: Plan | None) -> bool:
        """Keep `found` if the validator accepts it and it beats the best so far."""
        if found is None or (self.plan is not None and self._key(found) <= self._key(self.plan)):
            return False
        if validate(self.instance, found):
            return False  # a plan the validator rejects is never used
        self.plan = found
        return True

    def report(self, incumbent: Plan | None, dual_bound: float) -> bool:
        """Keep `incumbent` if it is valid and better, tell the caller; False if it asked to stop."""
        self.offer(incumbent)
        if not self.caller.listening:
            return True
        if self.plan is None:
            bound = min(
                dual_bound + self.weight * max_plan_cost(self.instance), _trivial_bound(self.instance, self.reach)
            )
            bound -= penalty_offset(self.instance)
            progress = Progress(self.caller.elapsed(), SEARCH, None, bound, None, None)
        else:
            m = measure(self.instance, self.reach, self.weight, self.plan, dual_bound)
            progress = Progress(self.caller.elapsed(), SEARCH, m.objective, m.bound, m.gap, self.plan, m.with_penalty)
        return self.caller.report(progress)


def _ticker(caller: Caller, progress: Progress) -> highs.Progress | None:
    """A progress function for the re-solves after the search: it reports `progress`, re-timed."""
    if not caller.listening:
        return None
    return lambda _plan, _bound: caller.report(msgspec.structs.replace(progress, elapsed_seconds=caller.elapsed()))


def _gap(objective: float, bound: float) -> float:
    return 0.0 if bound == 0 else (bound - objective) / abs(bound)


def _trivial_bound(instance: Instance, reach) -> float:
    return math.fsum(max(instance.scores_in(i, reach.window(i)), default=0.0) for i in range(len(instance.ideas)))


def _best_bound(instance: Instance, reach, weight: float, dual_bound: float, objective: float) -> float:
    """An upper bound on the score of any plan, from HiGHS's bound on the solver objective.

    The solver maximises the score (the value, without a baseline) minus a cost term of at
    most `tie_weight * max_plan_cost`, so adding that term back bounds the score; on a value
    grid the bound rounds down to it.
    """
    bound = dual_bound + weight * max_plan_cost(instance)
    bound = min(bound, _trivial_bound(instance, reach))
    grid = value_grid(instance)
    if grid is not None and math.isfinite(bound):
        # The cost term is at most a quarter step and HiGHS's absolute gap a tenth: a small
        # allowance for rounding in the bound cannot carry it past the next step.
        steps = bound / grid
        bound = grid * math.floor(steps + 0.05 + 1e-10 * abs(steps))
    return max(bound, objective)


def _proven(instance: Instance, objective: float, bound: float) -> bool:
    grid = value_grid(instance)
    tolerance = grid / 2 if grid is not None else 1e-6 * max(1.0, abs(objective))
    return bound - objective <= tolerance
