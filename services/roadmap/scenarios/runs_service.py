"""Use cases of runs: start an optimisation, a frontier sweep or an explanation, read, cancel and
compare them, inside the request's transaction. A run and its job are enqueued together."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit import jobs
from services.kit.access import service as access
from services.kit.access.rights import PLAN, READ, Right
from services.kit.auth import Caller
from services.kit.problems import Conflict, FieldProblem, InvalidInput, NotFound, invalid_conversion
from services.roadmap.scenarios import compare, idea_views, repository
from services.roadmap.scenarios.explain_runs import AlternativesIn, SensitivityIn
from services.roadmap.scenarios.frontier import FrontierPoint, Sweep, frontier_svg
from services.roadmap.scenarios.idea_rows import IdeaRow
from services.roadmap.scenarios.repository import RunRow
from services.roadmap.scenarios.schemas import RunIn
from services.roadmap.scenarios.service import load_scenario, require_scenario

OPTIMISE_JOB = "roadmap.optimise"
FRONTIER_JOB = "roadmap.frontier"


async def start_run(conn: asyncpg.Connection, scenario_id: UUID, body: RunIn, *, caller: Caller) -> RunRow:
    """Record a run and enqueue its job in the same transaction: both happen, or neither."""
    scenario = await require_scenario(conn, caller, scenario_id, PLAN)
    options = {
        key: value
        for key, value in (("timeLimitSeconds", body.time_limit_seconds), ("relativeGap", body.relative_gap))
        if value is not None
    }
    run = await repository.insert_run(
        conn,
        scenario_id=scenario_id,
        document=scenario.document,
        fingerprint=scenario.fingerprint,
        options=options,
        created_by=caller.subject,
    )
    await jobs.enqueue(conn, OPTIMISE_JOB, str(run.id).encode())
    return run


async def start_frontier(conn: asyncpg.Connection, scenario_id: UUID, raw: dict[str, Any], *, caller: Caller) -> RunRow:
    """Record a frontier sweep of the scenario and enqueue its job, in one transaction."""
    scenario = await require_scenario(conn, caller, scenario_id, PLAN)
    try:
        sweep = msgspec.convert(raw, Sweep)
    except (msgspec.ValidationError, ValueError) as exc:
        raise invalid_conversion(exc) from None
    run = await repository.insert_run(
        conn,
        scenario_id=scenario_id,
        document=scenario.document,
        fingerprint=scenario.fingerprint,
        options={"sweep": msgspec.to_builtins(sweep)},
        created_by=caller.subject,
        kind="frontier",
    )
    await jobs.enqueue(conn, FRONTIER_JOB, str(run.id).encode())
    return run


_EXPLANATIONS: dict[str, tuple[type[Any], str]] = {
    "sensitivity": (SensitivityIn, "roadmap.sensitivity"),
    "alternatives": (AlternativesIn, "roadmap.alternatives"),
}


async def start_explanation(
    conn: asyncpg.Connection, base_run_id: UUID, kind: str, raw: dict[str, Any], *, caller: Caller
) -> RunRow:
    """A job that explains a finished optimisation run: budget sensitivity or alternative plans."""
    options_type, entrypoint = _EXPLANATIONS[kind]
    try:
        options = msgspec.convert(raw, options_type)
    except (msgspec.ValidationError, ValueError) as exc:
        raise invalid_conversion(exc) from None
    base = await require_run(conn, caller, base_run_id, PLAN)
    if base.kind != "optimise" or base.summary is None or base.summary["status"] not in ("optimal", "feasible"):
        raise Conflict(f"Run {base_run_id} has no plan to explain: only a finished optimisation with a plan has.")
    document = await repository.run_document(conn, base_run_id)
    run = await repository.insert_run(
        conn,
        scenario_id=base.scenario_id,
        document=document or {},
        fingerprint=base.input_fingerprint,
        options={kind: msgspec.to_builtins(options)},
        created_by=caller.subject,
        kind=kind,
        base_run_id=base_run_id,
    )
    await jobs.enqueue(conn, entrypoint, str(run.id).encode())
    return run


async def frontier_chart(conn: asyncpg.Connection, caller: Caller, run_id: UUID) -> str:
    """The frontier of a finished sweep as an SVG chart."""
    run = await require_run(conn, caller, run_id, READ)
    if run.kind != "frontier":
        raise NotFound(f"Run {run_id} is not a frontier sweep.")
    result = await _result_of(conn, run)
    points = msgspec.convert(result["points"], list[FrontierPoint])
    scenario = await load_scenario(conn, run.scenario_id)
    swept = await repository.run_document(conn, run_id)
    current = sum(phase["budget"] for phase in (swept or scenario.document)["phases"])
    title = f"Efficient frontier: {scenario.name}"
    return frontier_svg(points, title=title, currency=scenario.source.get("currency", ""), current_budget=current)


async def require_run(conn: asyncpg.Connection, caller: Caller, run_id: UUID, right: Right) -> RunRow:
    """A run of a portfolio where the caller's roles allow `right`."""
    subject, groups = access.caller_params(caller)
    found = await repository.get_run_with_roles(conn, run_id, subject=subject, groups=groups)
    if found is None:
        raise NotFound(f"There is no run {run_id}.")
    row, roles = found
    access.grant(caller, row.portfolio_id, roles, right, missing=f"There is no run {run_id}.")
    return row


async def list_runs(
    conn: asyncpg.Connection, caller: Caller, scenario_id: UUID, *, page: int, page_size: int
) -> tuple[list[RunRow], int]:
    await require_scenario(conn, caller, scenario_id, READ)
    return await repository.list_runs(conn, scenario_id, limit=page_size, offset=(page - 1) * page_size)


async def run_result(conn: asyncpg.Connection, caller: Caller, run_id: UUID) -> dict[str, Any]:
    """The result document, each assignment with its idea's row (title, owner, value, KPIs, ...)."""
    run = await require_run(conn, caller, run_id, READ)
    result = await _result_of(conn, run)
    return idea_views.with_rows(result, await idea_views.rows_of_run(conn, run_id, run.scenario_id))


async def _result_of(conn: asyncpg.Connection, run: RunRow) -> dict[str, Any]:
    result = await repository.run_result(conn, run.id)
    if result is None:
        raise Conflict(f"Run {run.id} has no result yet: it is {run.status}.")
    return result


async def cancel_run(conn: asyncpg.Connection, caller: Caller, run_id: UUID) -> RunRow:
    """Stop a run: at once if still queued; a running one stops at its next check, keeping its best plan."""
    run = await require_run(conn, caller, run_id, PLAN)
    cancelled = await repository.request_cancel(conn, run_id)
    if cancelled is None:
        raise Conflict(f"Run {run_id} has already finished: it is {run.status}.")
    return cancelled


async def compare_runs(
    conn: asyncpg.Connection, caller: Caller, run_ids: list[UUID]
) -> tuple[list[compare.RunColumn], list[compare.NotCompared], list[IdeaRow]]:
    """Finished optimisation runs side by side, each against the first; the others listed apart;
    and a row for each idea added, removed or moved (as the first run that has it knows it)."""
    if len(set(run_ids)) != len(run_ids):
        raise InvalidInput("A run is listed twice.", errors=[FieldProblem(field="query.ids", message="repeats a run")])
    candidates = []
    rows: dict[str, IdeaRow] = {}
    for run_id in run_ids:
        run = await require_run(conn, caller, run_id, READ)
        result = await repository.run_result(conn, run_id) if run.kind == "optimise" else None
        candidates.append(compare.Candidate(run_id=str(run_id), kind=run.kind, status=run.status, result=result))
        if result is not None:
            rows = {**await idea_views.rows_of_run(conn, run_id, run.scenario_id), **rows}
    columns, left_out = compare.compare(candidates)
    if not columns:
        problems = [
            FieldProblem(field=f"query.ids[{index}]", message=item.reason) for index, item in enumerate(left_out)
        ]
        raise InvalidInput("None of these runs is a finished optimisation, so nothing compares.", errors=problems)
    named = {item.idea for column in columns for item in (*column.added, *column.removed, *column.moved)}
    return columns, left_out, [rows[ref] for ref in sorted(named) if ref in rows]
