"""Job entrypoints of the roadmap service: optimisation runs and frontier sweeps.

The queue delivers at least once (see services/kit/jobs.py). A run is claimed with a new
attempt number, and only the attempt that holds the run can record its outcome, so a run
finishes exactly once even when a worker that was presumed dead wakes up again.

A database restart does not lose a run: a solve carries on while its progress cannot be
stored, and claiming, the checks between steps and recording the outcome are tried again
until the database answers (each is a conditional write or a read, so safe to repeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import msgspec

from services.kit.db import database_unavailable
from services.kit.jobs import JobContext, JobHandler
from services.roadmap.optimiser import (
    Instance,
    SensitivityConfig,
    Solution,
    SolveConfig,
    alternatives,
    alternatives_document,
    budget_sensitivity,
    result_document,
    solve,
)
from services.roadmap.optimiser.explain import what_ifs
from services.roadmap.optimiser.progress import Progress
from services.roadmap.optimiser.scenario import ScenarioDoc, to_instance
from services.roadmap.scenarios import repository
from services.roadmap.scenarios.explain_runs import AlternativesIn, SensitivityIn, solution_from_result
from services.roadmap.scenarios.frontier import FrontierPoint, Sweep, scaled, total_budget
from services.roadmap.scenarios.repository import ClaimedRun

log = logging.getLogger("roadmap.runs")

PROGRESS_EVERY_SECONDS = 1.0

Work = Callable[[JobContext, ClaimedRun], Awaitable[tuple[str, dict[str, Any], tuple[str | None, str | None]]]]
Then = Callable[[ClaimedRun], Awaitable[None]]


async def _run(job: JobContext, work: Work, then: Then | None = None) -> None:
    """Claim the run named by the job's payload, do the work, and record its outcome once.

    `then`, if given, runs after a `succeeded` outcome was recorded by this attempt: work that
    adds to a result the user can already use.
    """
    run_id = UUID(job.payload.decode())
    run = await job.on_database("claim a run", lambda conn: repository.claim_run(conn, run_id))
    if run is None:
        log.info("run already finished or cancelled", extra={"fields": {"run_id": str(run_id)}})
        return
    try:
        status, result, (solver_name, solver_version) = await work(job, run)
    except Exception as exc:
        log.exception("run failed", extra={"fields": {"run_id": str(run_id)}})
        status, result, error = "failed", None, f"{type(exc).__name__}: {exc}"
        solver_name = solver_version = None
    else:
        error = None
    # A retry after a commit whose answer was lost finds the run finished and changes nothing.
    won = await job.on_database(
        "record a run's outcome",
        lambda conn: repository.finish_run(
            conn,
            run_id,
            run.attempts,
            status=status,
            result=result,
            error=error,
            solver_name=solver_name,
            solver_version=solver_version,
        ),
    )
    log.info("run finished", extra={"fields": {"run_id": str(run_id), "status": status, "recorded": won}})
    if then is not None and won and status == "succeeded":
        try:
            await then(run)
        except Exception:
            # The run has its plan; only the additions are lost.
            log.exception("follow-up of a finished run failed", extra={"fields": {"run_id": str(run_id)}})


async def optimise(job: JobContext) -> None:
    """Solve the run's scenario and store its result document, the plan first.

    The run is `succeeded` with its plan, status, bound and left-out reasons as soon as the
    search ends; the what-if re-solves for left-out ideas (one MILP each) come afterwards and
    are added to the stored result (issue 10: they took ten times as long as the plan).
    """
    solved: dict[str, Any] = {}

    async def work(job: JobContext, run: ClaimedRun):
        return await _solve(job, run, solved)

    async def then(run: ClaimedRun) -> None:
        await _add_what_ifs(job, run, solved)

    await _run(job, work, then)


async def sweep_frontier(job: JobContext) -> None:
    """Solve the scenario at each total budget of the sweep and store the frontier's points."""
    await _run(job, _sweep)


class SolveWatch:
    """What the solving thread and the worker's event loop share about one solve.

    The optimiser calls `on_progress` in the solving thread; the event loop reads `latest()`
    to store it, and sets `stop` when the run is cancelled, which the next call answers.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Progress | None = None
        self.stop = threading.Event()

    def on_progress(self, progress: Progress) -> bool:
        with self._lock:
            self._latest = progress
        return not self.stop.is_set()

    def latest(self) -> Progress | None:
        with self._lock:
            return self._latest


async def _solve(
    job: JobContext, run: ClaimedRun, solved: dict[str, Any]
) -> tuple[str, dict[str, Any], tuple[str | None, str | None]]:
    instance = to_instance(msgspec.convert(run.document, ScenarioDoc))
    config = SolveConfig.for_instance(
        instance, time_limit=run.options.get("timeLimitSeconds"), gap=run.options.get("relativeGap"), what_if_limit=0
    )
    watch = SolveWatch()
    ticker = asyncio.create_task(_watch_solve(job, run, instance, watch, config.time_limit_seconds))
    try:
        # HiGHS releases the GIL while it works, so the worker keeps heartbeating meanwhile.
        solution = await asyncio.to_thread(solve, instance, config, on_progress=watch.on_progress)
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
    result = msgspec.to_builtins(result_document(instance, solution))
    cancelled = await job.on_database("check for a cancel", lambda conn: repository.cancel_requested(conn, run.id))
    solved.update(instance=instance, solution=solution, config=config)
    return ("cancelled" if cancelled else "succeeded"), result, (solution.stats.solver, solution.stats.solver_version)


async def _add_what_ifs(job: JobContext, run: ClaimedRun, solved: dict[str, Any]) -> None:
    """Re-solve the most valuable left-out ideas forced in, and add the answers to the result."""
    instance, solution = solved["instance"], solved["solution"]
    if solution.plan is None or solution.stats.skipped_what_if == 0:
        return
    config = msgspec.structs.replace(solved["config"], what_if_limit=SolveConfig().what_if_limit)
    left_out = [msgspec.structs.replace(lo, detail=dict(lo.detail)) for lo in solution.left_out]
    ran, skipped = await asyncio.to_thread(what_ifs, instance, solution.plan, solution.status, config, left_out)
    stats = msgspec.structs.replace(solution.stats, explained_what_if=ran, skipped_what_if=skipped)
    explained = msgspec.structs.replace(solution, left_out=tuple(left_out), stats=stats)
    result = msgspec.to_builtins(result_document(instance, explained))
    await job.on_database("add what-ifs", lambda conn: repository.add_to_result(conn, run.id, run.attempts, result))


async def _sweep(job: JobContext, run: ClaimedRun) -> tuple[str, dict[str, Any], tuple[str | None, str | None]]:
    document = msgspec.convert(run.document, ScenarioDoc)
    sweep = msgspec.convert(run.options["sweep"], Sweep)
    points: list[FrontierPoint] = []
    solver: tuple[str | None, str | None] = (None, None)
    planned_before: set[str] | None = None  # the ideas of the last point that had a plan
    for factor in sweep.factors():
        if await job.on_database("check for a cancel", lambda conn: repository.cancel_requested(conn, run.id)):
            break
        point_document = scaled(document, factor, sweep.time_limit_seconds_per_point)
        instance = to_instance(point_document)
        solution = await asyncio.to_thread(solve, instance, SolveConfig.for_instance(instance, what_if_limit=0))
        solver = (solution.stats.solver, solution.stats.solver_version)
        planned = None if solution.plan is None else {instance.ideas[i].id for i, _ in solution.plan.assignments}
        # What each step of budget adds and gives up, against the point before with a plan.
        steps = planned is not None and planned_before is not None
        points.append(
            FrontierPoint(
                factor=factor,
                total_budget=total_budget(point_document),
                status=solution.status,
                objective=solution.objective,
                best_bound=solution.best_bound,
                gap=solution.gap,
                added=sorted(planned - planned_before) if steps else [],
                removed=sorted(planned_before - planned) if steps else [],
            )
        )
        planned_before = planned if planned is not None else planned_before
        progress = {"stage": "sweeping", "pointsDone": len(points), "points": sweep.points}
        recorded = await job.on_database(
            "record progress",
            lambda conn, progress=progress: repository.record_progress(conn, run.id, run.attempts, progress),
        )
        if not recorded:
            break
    complete = len(points) == sweep.points
    result = {"kind": "frontier", "complete": complete, "points": msgspec.to_builtins(points)}
    return ("succeeded" if complete else "cancelled"), result, solver


async def explain_sensitivity(job: JobContext) -> None:
    """How each phase budget bounds the base run's plan: plateau, next step, LP price."""
    await _run(job, _sensitivity)


async def find_alternatives(job: JobContext) -> None:
    """Other good plans than the base run's, each different enough, losing little value."""
    await _run(job, _alternatives)


async def _base(job: JobContext, run: ClaimedRun) -> tuple[Instance, Solution]:
    instance = to_instance(msgspec.convert(run.document, ScenarioDoc))
    result = await job.on_database("read the base run", lambda conn: repository.run_result(conn, run.base_run_id))
    if result is None:
        raise RuntimeError(f"the base run {run.base_run_id} has no result")
    return instance, solution_from_result(instance, result)


async def _sensitivity(job: JobContext, run: ClaimedRun) -> tuple[str, dict[str, Any], tuple[str | None, str | None]]:
    instance, solution = await _base(job, run)
    limits = msgspec.convert(run.options["sensitivity"], SensitivityIn)
    config = SensitivityConfig(time_limit_seconds=limits.time_limit_seconds, max_solves=limits.max_solves)
    phases = await asyncio.to_thread(budget_sensitivity, instance, solution, config)
    result = {"kind": "sensitivity", "baseRunId": str(run.base_run_id), "phases": msgspec.to_builtins(phases)}
    return "succeeded", result, (solution.stats.solver, solution.stats.solver_version)


async def _alternatives(job: JobContext, run: ClaimedRun) -> tuple[str, dict[str, Any], tuple[str | None, str | None]]:
    instance, solution = await _base(job, run)
    asked = msgspec.convert(run.options["alternatives"], AlternativesIn)
    config = SolveConfig.for_instance(instance, time_limit=asked.time_limit_seconds)
    found = await asyncio.to_thread(
        alternatives,
        instance,
        solution,
        config,
        count=asked.count,
        min_difference=asked.min_difference,
        max_loss=asked.max_loss,
    )
    document = msgspec.to_builtins(alternatives_document(instance, found))
    result = {"kind": "alternatives", "baseRunId": str(run.base_run_id), **document}
    return "succeeded", result, (solution.stats.solver, solution.stats.solver_version)


def progress_document(instance: Instance, progress: Progress | None, time_limit: float) -> dict[str, Any]:
    """What a poller sees of a solve in progress: the best plan so far, its bound and gap."""
    if progress is None:
        return {"stage": "starting", "elapsedSeconds": 0.0, "timeLimitSeconds": time_limit}
    ideas, phases = instance.ideas, instance.phases
    plan = progress.plan.assignments if progress.plan is not None else ()
    return {
        "stage": progress.stage,
        "elapsedSeconds": round(progress.elapsed_seconds, 1),
        "timeLimitSeconds": time_limit,
        "objective": progress.objective,
        "bestBound": progress.best_bound,
        "gap": progress.gap,
        # With a baseline the bound is on the value minus the move penalty: show that figure too.
        "objectiveWithPenalty": progress.objective_with_penalty,
        "assignments": [{"idea": ideas[i].id, "phase": phases[p].key} for i, p in plan],
    }


async def _watch_solve(
    job: JobContext, run: ClaimedRun, instance: Instance, watch: SolveWatch, time_limit: float
) -> None:
    """Every second: store the solve's progress, and stop it if the run was cancelled or retaken."""
    while True:
        progress = progress_document(instance, watch.latest(), time_limit)
        try:
            async with job.pool.acquire() as conn:
                still_ours = await repository.record_progress(conn, run.id, run.attempts, progress)
                if not still_ours or await repository.cancel_requested(conn, run.id):
                    watch.stop.set()
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            # Progress is best effort: the solve goes on, and reports again once the database is back.
            fields = {"run_id": str(run.id), "error": type(exc).__name__}
            log.warning("progress not stored: database unavailable", extra={"fields": fields})
        await asyncio.sleep(PROGRESS_EVERY_SECONDS)


HANDLERS: dict[str, JobHandler] = {
    "roadmap.optimise": optimise,
    "roadmap.frontier": sweep_frontier,
    "roadmap.sensitivity": explain_sensitivity,
    "roadmap.alternatives": find_alternatives,
}
