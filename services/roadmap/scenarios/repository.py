"""SQL of scenarios and runs. Connection first; repositories never manage transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access.repository import caller_roles_sql, visible_portfolios


class ScenarioRow(msgspec.Struct, frozen=True):
    id: UUID
    portfolio_id: UUID
    name: str
    source: dict[str, Any]
    document: dict[str, Any]
    skipped: list[dict[str, str]]
    fingerprint: str
    revision: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    locked: bool
    backlog_effort: dict[str, dict[str, float]]
    idea_details: dict[str, Any] = {}


class RunRow(msgspec.Struct, frozen=True, kw_only=True):
    """A run without its heavy documents: what status polling needs."""

    id: UUID
    scenario_id: UUID
    portfolio_id: UUID
    kind: str
    status: str
    input_fingerprint: str
    options: dict[str, Any]
    progress: dict[str, Any]
    summary: dict[str, Any] | None
    base_run_id: UUID | None
    error: str | None
    solver_name: str | None
    solver_version: str | None
    attempts: int
    cancel_requested: bool
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ClaimedRun(RunRow, frozen=True, kw_only=True):
    """A run a worker has taken, with the scenario document it solves."""

    document: dict[str, Any]


def _rows(records: Sequence[asyncpg.Record], row_type: type[Any]) -> list[Any]:
    return [msgspec.convert(dict(record), row_type) for record in records]


def _row(record: asyncpg.Record | None, row_type: type[Any]) -> Any:
    return None if record is None else msgspec.convert(dict(record), row_type)


# A scenario is locked while an approved plan stands on it.
_SCENARIO_COLUMNS = """
    s.id, s.portfolio_id, s.name, s.source, s.document, s.skipped, s.fingerprint, s.revision,
    s.created_by, s.created_at, s.updated_at,
    EXISTS (SELECT 1 FROM roadmap.plans p WHERE p.scenario_id = s.id AND p.status = 'approved') AS locked,
    s.backlog_effort, s.idea_details
"""


async def insert_scenario(
    conn: asyncpg.Connection,
    *,
    portfolio_id: UUID,
    name: str,
    source: dict[str, Any],
    document: dict[str, Any],
    skipped: list[dict[str, str]],
    fingerprint: str,
    created_by: str,
    backlog_effort: dict[str, dict[str, float]],
    idea_details: dict[str, Any] | None = None,
) -> UUID:
    return await conn.fetchval(
        """
        INSERT INTO roadmap.scenarios
            (portfolio_id, name, source, document, skipped, fingerprint, created_by, backlog_effort, idea_details)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
        """,
        portfolio_id,
        name,
        source,
        document,
        skipped,
        fingerprint,
        created_by,
        backlog_effort,
        idea_details or {},
    )


async def get_scenario(conn: asyncpg.Connection, scenario_id: UUID, *, for_update: bool = False) -> ScenarioRow | None:
    lock = " FOR UPDATE OF s" if for_update else ""
    record = await conn.fetchrow(
        f"SELECT {_SCENARIO_COLUMNS} FROM roadmap.scenarios s WHERE s.id = $1{lock}", scenario_id
    )
    return _row(record, ScenarioRow)


async def list_scenarios(
    conn: asyncpg.Connection,
    *,
    portfolio_id: UUID | None,
    scope: tuple[str, list[str]] | None,
    limit: int,
    offset: int,
) -> tuple[list[ScenarioRow], int]:
    """Scenarios, oldest first, of one portfolio or all; only of the portfolios `scope` is a member of."""
    params = [] if scope is None else list(scope)

    def where(first_param: int) -> str:
        visible = "" if scope is None else f" AND {visible_portfolios('s.portfolio_id', first_param=first_param + 1)}"
        return f"WHERE (${first_param}::uuid IS NULL OR s.portfolio_id = ${first_param}){visible}"

    records = await conn.fetch(
        f"SELECT {_SCENARIO_COLUMNS} FROM roadmap.scenarios s {where(3)} ORDER BY s.created_at, s.id LIMIT $1 OFFSET $2",
        limit,
        offset,
        portfolio_id,
        *params,
    )
    total = await conn.fetchval(f"SELECT count(*) FROM roadmap.scenarios s {where(1)}", portfolio_id, *params)
    return _rows(records, ScenarioRow), total


async def update_scenario(
    conn: asyncpg.Connection, scenario_id: UUID, *, name: str, document: dict[str, Any], fingerprint: str
) -> None:
    await conn.execute(
        """
        UPDATE roadmap.scenarios
        SET name = $2, document = $3, fingerprint = $4, revision = revision + 1, updated_at = now()
        WHERE id = $1
        """,
        scenario_id,
        name,
        document,
        fingerprint,
    )


async def delete_scenario(conn: asyncpg.Connection, scenario_id: UUID) -> None:
    await conn.execute("DELETE FROM roadmap.scenarios WHERE id = $1", scenario_id)


async def scenario_has_plans(conn: asyncpg.Connection, scenario_id: UUID) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM roadmap.plans WHERE scenario_id = $1)", scenario_id)


# --- runs -------------------------------------------------------------------------------

# Polling a run must stay cheap however large its scenario: the documents stay in the
# database and only the headline of an optimisation's result comes along.
_RUN_COLUMNS = """
    id, scenario_id, (SELECT s.portfolio_id FROM roadmap.scenarios s WHERE s.id = runs.scenario_id) AS portfolio_id, kind, status, input_fingerprint, options, progress, error, base_run_id,
    summary,
    solver_name, solver_version, attempts, cancel_requested, created_by, created_at, started_at, finished_at
"""


async def insert_run(
    conn: asyncpg.Connection,
    *,
    scenario_id: UUID,
    document: dict[str, Any],
    fingerprint: str,
    options: dict[str, Any],
    created_by: str,
    kind: str = "optimise",
    base_run_id: UUID | None = None,
) -> RunRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO roadmap.runs (scenario_id, document, input_fingerprint, options, created_by, kind, base_run_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_RUN_COLUMNS}
        """,
        scenario_id,
        document,
        fingerprint,
        options,
        created_by,
        kind,
        base_run_id,
    )
    return _row(record, RunRow)


async def get_run(conn: asyncpg.Connection, run_id: UUID) -> RunRow | None:
    record = await conn.fetchrow(f"SELECT {_RUN_COLUMNS} FROM roadmap.runs WHERE id = $1", run_id)
    return _row(record, RunRow)


async def get_run_with_roles(
    conn: asyncpg.Connection, run_id: UUID, *, subject: str, groups: list[str]
) -> tuple[RunRow, list[str]] | None:
    """A run and the roles the caller has on its portfolio, in one statement: a run being polled
    is read without a membership check of its own."""
    roles = caller_roles_sql(
        "(SELECT s.portfolio_id FROM roadmap.scenarios s WHERE s.id = runs.scenario_id)", subject="$2", groups="$3"
    )
    record = await conn.fetchrow(
        f"SELECT {_RUN_COLUMNS}, {roles} AS caller_roles FROM roadmap.runs WHERE id = $1", run_id, subject, groups
    )
    return None if record is None else (msgspec.convert(dict(record), RunRow), list(record["caller_roles"]))


async def list_runs(
    conn: asyncpg.Connection, scenario_id: UUID, *, limit: int, offset: int
) -> tuple[list[RunRow], int]:
    records = await conn.fetch(
        f"SELECT {_RUN_COLUMNS} FROM roadmap.runs WHERE scenario_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3",
        scenario_id,
        limit,
        offset,
    )
    total = await conn.fetchval("SELECT count(*) FROM roadmap.runs WHERE scenario_id = $1", scenario_id)
    return _rows(records, RunRow), total


async def run_result(conn: asyncpg.Connection, run_id: UUID) -> dict[str, Any] | None:
    return await conn.fetchval("SELECT result FROM roadmap.runs WHERE id = $1", run_id)


async def claim_run(conn: asyncpg.Connection, run_id: UUID) -> ClaimedRun | None:
    """Mark a run as running for this attempt; None when it is already finished or cancelled.

    A run still marked running was being worked on by a worker that died: taking it again is
    how it gets finished.
    """
    record = await conn.fetchrow(
        f"""
        UPDATE roadmap.runs
        SET status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now())
        WHERE id = $1 AND status IN ('queued', 'running') AND NOT cancel_requested
        RETURNING {_RUN_COLUMNS}, document
        """,
        run_id,
    )
    return _row(record, ClaimedRun)


async def record_progress(conn: asyncpg.Connection, run_id: UUID, attempt: int, progress: dict[str, Any]) -> bool:
    """Store progress of this attempt; False when the run has moved on (finished, cancelled, retaken)."""
    status = await conn.execute(
        "UPDATE roadmap.runs SET progress = $3 WHERE id = $1 AND status = 'running' AND attempts = $2",
        run_id,
        attempt,
        progress,
    )
    return status.endswith(" 1")


async def finish_run(
    conn: asyncpg.Connection,
    run_id: UUID,
    attempt: int,
    *,
    status: str,
    result: dict[str, Any] | None,
    error: str | None,
    solver_name: str | None,
    solver_version: str | None,
) -> bool:
    """Record the outcome once: only the attempt that holds the run may finish it."""
    outcome = await conn.execute(
        """
        UPDATE roadmap.runs
        SET status = $3, result = $4, error = $5, solver_name = $6, solver_version = $7, finished_at = now(),
            -- A finished run's progress is its final state: the result's objective, bound and gap
            -- and the solve's time, never the last in-flight report. The plan is in the result
            -- now, so a poll of a finished run stays small.
            progress = (progress - 'assignments') || jsonb_build_object('stage', 'finished') || CASE
                WHEN kind = 'optimise' AND $4::jsonb ? 'status' THEN jsonb_build_object(
                    'objective', $4::jsonb -> 'objective',
                    'bestBound', $4::jsonb -> 'bestBound',
                    'gap', $4::jsonb -> 'gap',
                    'elapsedSeconds', coalesce($4::jsonb #> '{solver,seconds}', progress -> 'elapsedSeconds'))
                    -- a re-plan's bound is on the value minus the move penalty: show both
                    || jsonb_strip_nulls(jsonb_build_object(
                        'objectiveWithPenalty', $4::jsonb -> 'objectiveWithPenalty',
                        'penalty', $4::jsonb -> 'baselinePenalty'))
                ELSE '{}'::jsonb END
        WHERE id = $1 AND status = 'running' AND attempts = $2
        """,
        run_id,
        attempt,
        status,
        result,
        error,
        solver_name,
        solver_version,
    )
    return outcome.endswith(" 1")


async def add_to_result(conn: asyncpg.Connection, run_id: UUID, attempt: int, result: dict[str, Any]) -> bool:
    """Replace a succeeded run's result by a fuller one (the same plan, more explanations)."""
    outcome = await conn.execute(
        "UPDATE roadmap.runs SET result = $3 WHERE id = $1 AND status = 'succeeded' AND attempts = $2",
        run_id,
        attempt,
        result,
    )
    return outcome.endswith(" 1")


async def request_cancel(conn: asyncpg.Connection, run_id: UUID) -> RunRow | None:
    """Ask a run to stop: a queued run is cancelled at once, a running one at its next check."""
    record = await conn.fetchrow(
        f"""
        UPDATE roadmap.runs
        SET cancel_requested = true,
            status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
            finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END
        WHERE id = $1 AND status IN ('queued', 'running')
        RETURNING {_RUN_COLUMNS}
        """,
        run_id,
    )
    return _row(record, RunRow)


async def cancel_requested(conn: asyncpg.Connection, run_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT cancel_requested FROM roadmap.runs WHERE id = $1", run_id))


async def idea_details(conn: asyncpg.Connection, scenario_id: UUID) -> dict[str, Any]:
    """The owner, KPIs and quadrant of each idea of a scenario, as frozen with it."""
    return await conn.fetchval("SELECT idea_details FROM roadmap.scenarios WHERE id = $1", scenario_id) or {}


async def run_document(conn: asyncpg.Connection, run_id: UUID) -> dict[str, Any] | None:
    """The scenario document a run solved."""
    return await conn.fetchval("SELECT document FROM roadmap.runs WHERE id = $1", run_id)


class PlanBasis(msgspec.Struct, frozen=True):
    """What a re-plan starts from: the plan's state, its scenario, its run's assignments, and
    each phase's approved budget (what the leaders approved, or the budget asked when they
    approved it as asked)."""

    status: str
    scenario_id: UUID
    name: str
    assignments: list[dict[str, str]]
    approved_budgets: dict[str, float]


async def plan_basis(conn: asyncpg.Connection, plan_id: UUID) -> PlanBasis | None:
    record = await conn.fetchrow(
        """
        SELECT p.status, p.scenario_id, p.name, coalesce(r.result -> 'assignments', '[]'::jsonb) AS assignments,
               coalesce((
                   SELECT jsonb_object_agg(asked ->> 'key', coalesce(d.approved_budget, (asked ->> 'budget')::float8))
                   FROM jsonb_array_elements(r.result -> 'phases') AS asked
                   LEFT JOIN roadmap.phase_decisions d ON d.plan_id = p.id AND d.phase = asked ->> 'key'
               ), '{}'::jsonb) AS approved_budgets
        FROM roadmap.plans p JOIN roadmap.runs r ON r.id = p.run_id WHERE p.id = $1
        """,
        plan_id,
    )
    return _row(record, PlanBasis)
