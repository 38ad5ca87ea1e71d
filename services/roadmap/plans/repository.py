"""SQL of plans, phase decisions and the audit trail. Connection first; never manages transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access.repository import visible_portfolios


class RunForPlanRow(msgspec.Struct, frozen=True):
    """What promoting a run needs to know, without reading its whole result."""

    id: UUID
    kind: str
    status: str
    scenario_id: UUID
    portfolio_id: UUID
    result_status: str | None
    phase_keys: list[str]


class PlanSummaryRow(msgspec.Struct, frozen=True):
    id: UUID
    run_id: UUID
    scenario_id: UUID
    portfolio_id: UUID
    name: str
    status: str
    created_by: str
    submitted_by: str | None
    created_at: datetime
    updated_at: datetime


class PlanRow(PlanSummaryRow, frozen=True):
    """A plan with what its lifecycle and audit trail need from its run."""

    revision: int
    revised_by: list[str]
    input_fingerprint: str
    solver_name: str | None
    solver_version: str | None
    phase_keys: list[str]


class DecisionRow(msgspec.Struct, frozen=True):
    phase: str
    decision: str
    comment: str
    decided_by: str
    decided_at: datetime
    approved_budget: float | None


class AuditRow(msgspec.Struct, frozen=True):
    id: int
    action: str
    actor: str
    actor_role: str
    at: datetime
    input_fingerprint: str
    solver: str | None
    detail: dict[str, Any]


class ResultPhase(msgspec.Struct, rename="camel", frozen=True):
    key: str
    budget: float
    spend: float
    # From the run's scenario document: when the phase runs, if the scenario says.
    start: date | None = None
    end: date | None = None


class _PhaseDates(msgspec.Struct, frozen=True):
    key: str
    start: date | None = None
    end: date | None = None


class ResultAssignment(msgspec.Struct, rename="camel", frozen=True):
    idea: str
    phase: str


class RunResult(msgspec.Struct, rename="camel", frozen=True):
    """The parts of a run's result document a plan shows; other fields are ignored."""

    status: str
    objective: float | None = None
    best_bound: float | None = None
    gap: float | None = None
    assignments: list[ResultAssignment] = msgspec.field(default_factory=list)
    phases: list[ResultPhase] = msgspec.field(default_factory=list)


def _one(record: asyncpg.Record | None, row_type: type[Any]) -> Any:
    return None if record is None else msgspec.convert(dict(record), row_type)


def _many(records: Sequence[asyncpg.Record], row_type: type[Any]) -> list[Any]:
    return [msgspec.convert(dict(record), row_type) for record in records]


# The phase keys come out of the result in SQL, so locking or listing never moves a
# 10,000-assignment document to Python.
_PHASE_KEYS = "ARRAY(SELECT jsonb_path_query(r.result, '$.phases[*].key') #>> '{}') AS phase_keys"

_PLAN_SUMMARY_COLUMNS = """
    p.id, p.run_id, p.scenario_id, p.portfolio_id, p.name, p.status, p.created_by, p.submitted_by,
    p.created_at, p.updated_at
"""

# The run's own solver columns win; the result document's solver report fills in for runs
# whose worker recorded it only there.
_PLAN_COLUMNS = f"""
    {_PLAN_SUMMARY_COLUMNS},
    p.revision, p.revised_by,
    r.input_fingerprint,
    coalesce(r.solver_name, r.result #>> '{{solver,name}}') AS solver_name,
    coalesce(r.solver_version, r.result #>> '{{solver,version}}') AS solver_version,
    {_PHASE_KEYS}
"""


async def get_run_for_plan(conn: asyncpg.Connection, run_id: UUID) -> RunForPlanRow | None:
    record = await conn.fetchrow(
        f"""
        SELECT r.id, r.kind, r.status, r.scenario_id, s.portfolio_id, r.result ->> 'status' AS result_status,
               {_PHASE_KEYS}
        FROM roadmap.runs r JOIN roadmap.scenarios s ON s.id = r.scenario_id
        WHERE r.id = $1
        """,
        run_id,
    )
    return _one(record, RunForPlanRow)


async def insert_plan(
    conn: asyncpg.Connection, *, run_id: UUID, scenario_id: UUID, portfolio_id: UUID, name: str, created_by: str
) -> UUID:
    # The clock, not the transaction's start, so plans made in one transaction keep their order.
    return await conn.fetchval(
        """
        INSERT INTO roadmap.plans (run_id, scenario_id, portfolio_id, name, created_by, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, clock_timestamp(), clock_timestamp()) RETURNING id
        """,
        run_id,
        scenario_id,
        portfolio_id,
        name,
        created_by,
    )


async def get_plan(conn: asyncpg.Connection, plan_id: UUID, *, for_update: bool = False) -> PlanRow | None:
    """One plan; `for_update` locks its row until the transaction ends (the run is not locked)."""
    lock = " FOR UPDATE OF p" if for_update else ""
    record = await conn.fetchrow(
        f"SELECT {_PLAN_COLUMNS} FROM roadmap.plans p JOIN roadmap.runs r ON r.id = p.run_id WHERE p.id = $1{lock}",
        plan_id,
    )
    return _one(record, PlanRow)


async def approved_plan(conn: asyncpg.Connection, portfolio_id: UUID) -> PlanRow | None:
    """The portfolio's approved plan, if any, locked until the transaction ends."""
    record = await conn.fetchrow(
        f"""
        SELECT {_PLAN_COLUMNS} FROM roadmap.plans p JOIN roadmap.runs r ON r.id = p.run_id
        WHERE p.portfolio_id = $1 AND p.status = 'approved'
        FOR UPDATE OF p
        """,
        portfolio_id,
    )
    return _one(record, PlanRow)


async def list_plans(
    conn: asyncpg.Connection,
    *,
    portfolio_id: UUID | None,
    status: str | None,
    scope: tuple[str, list[str]] | None,
    limit: int,
    offset: int,
) -> tuple[list[PlanSummaryRow], int]:
    """A page of plans, newest first, and how many match in all; only of the portfolios `scope`
    (subject, groups) is a member of, or of all with no scope."""
    where = "($1::uuid IS NULL OR p.portfolio_id = $1) AND ($2::text IS NULL OR p.status = $2)"
    params = [portfolio_id, status]
    if scope is not None:
        where += f" AND {visible_portfolios('p.portfolio_id', first_param=3)}"
        params += list(scope)
    records = await conn.fetch(
        f"""
        SELECT {_PLAN_SUMMARY_COLUMNS} FROM roadmap.plans p WHERE {where}
        ORDER BY p.created_at DESC, p.id LIMIT ${len(params) + 1} OFFSET ${len(params) + 2}
        """,
        *params,
        limit,
        offset,
    )
    total = await conn.fetchval(f"SELECT count(*) FROM roadmap.plans p WHERE {where}", *params)
    return _many(records, PlanSummaryRow), total


async def set_status(conn: asyncpg.Connection, plan_id: UUID, status: str) -> None:
    await conn.execute("UPDATE roadmap.plans SET status = $2, updated_at = now() WHERE id = $1", plan_id, status)


async def mark_submitted(conn: asyncpg.Connection, plan_id: UUID, *, by: str) -> None:
    """The plan is submitted, and by whom: that subject never decides it."""
    await conn.execute(
        "UPDATE roadmap.plans SET status = 'submitted', submitted_by = $2, updated_at = now() WHERE id = $1",
        plan_id,
        by,
    )


async def run_result(conn: asyncpg.Connection, run_id: UUID) -> RunResult:
    """The run's result document, decoded straight from its text into the fields a plan shows,
    with each phase's dates from the document the run solved (the plan's timeline)."""
    record = await conn.fetchrow(
        "SELECT result::text AS result, document->'phases' AS phases FROM roadmap.runs WHERE id = $1", run_id
    )
    result = msgspec.json.decode(record["result"], type=RunResult)
    dates = {phase.key: phase for phase in msgspec.convert(record["phases"] or [], list[_PhaseDates])}
    if not any(phase.start or phase.end for phase in dates.values()):
        return result
    timed = [
        msgspec.structs.replace(phase, start=dates[phase.key].start, end=dates[phase.key].end)
        if phase.key in dates
        else phase
        for phase in result.phases
    ]
    return msgspec.structs.replace(result, phases=timed)


async def decisions(conn: asyncpg.Connection, plan_id: UUID) -> list[DecisionRow]:
    records = await conn.fetch(
        """
        SELECT phase, decision, comment, decided_by, decided_at, approved_budget FROM roadmap.phase_decisions
        WHERE plan_id = $1 ORDER BY decided_at, phase
        """,
        plan_id,
    )
    return _many(records, DecisionRow)


async def record_decision(
    conn: asyncpg.Connection,
    plan_id: UUID,
    *,
    phase: str,
    decision: str,
    comment: str,
    decided_by: str,
    approved_budget: float | None,
) -> None:
    """The phase's standing decision: a request for changes is replaced by a later decision."""
    await conn.execute(
        """
        INSERT INTO roadmap.phase_decisions (plan_id, phase, decision, comment, decided_by, approved_budget)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (plan_id, phase) DO UPDATE SET decision = EXCLUDED.decision, comment = EXCLUDED.comment,
            decided_by = EXCLUDED.decided_by, decided_at = now(), approved_budget = EXCLUDED.approved_budget
        """,
        plan_id,
        phase,
        decision,
        comment,
        decided_by,
        approved_budget,
    )


async def keep_decisions(conn: asyncpg.Connection, plan_id: UUID, phases: Sequence[str]) -> None:
    """Drop every decision of the plan but those on `phases` (the audit trail keeps them all)."""
    await conn.execute(
        "DELETE FROM roadmap.phase_decisions WHERE plan_id = $1 AND NOT (phase = ANY($2::text[]))",
        plan_id,
        list(phases),
    )


async def move_to_run(conn: asyncpg.Connection, plan_id: UUID, *, run_id: UUID, by: str) -> None:
    """The plan's next revision stands on `run_id`; `by` joins those who never decide it."""
    await conn.execute(
        """
        UPDATE roadmap.plans SET run_id = $2, revision = revision + 1,
            revised_by = CASE WHEN $3 = ANY(revised_by) THEN revised_by ELSE array_append(revised_by, $3) END,
            updated_at = now()
        WHERE id = $1
        """,
        plan_id,
        run_id,
        by,
    )


async def insert_events(
    conn: asyncpg.Connection,
    plan_id: UUID,
    events: Sequence[tuple[str, dict[str, Any]]],
    *,
    actor: str,
    actor_role: str,
    input_fingerprint: str,
    solver: str | None,
) -> None:
    """Append `(action, detail)` events to the plan's audit trail, in order."""
    await conn.executemany(
        """
        INSERT INTO roadmap.audit_events (plan_id, action, actor, actor_role, input_fingerprint, solver, detail)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        [(plan_id, action, actor, actor_role, input_fingerprint, solver, detail) for action, detail in events],
    )


async def audit_events(conn: asyncpg.Connection, plan_id: UUID) -> list[AuditRow]:
    records = await conn.fetch(
        """
        SELECT id, action, actor, actor_role, at, input_fingerprint, solver, detail
        FROM roadmap.audit_events WHERE plan_id = $1 ORDER BY id
        """,
        plan_id,
    )
    return _many(records, AuditRow)


async def lock_portfolio_approvals(conn: asyncpg.Connection, portfolio_id: UUID) -> None:
    """Serialise approvals within a portfolio until the transaction ends.

    The portfolio row lives in another service's schema, so an advisory lock stands in for it.
    """
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('roadmap.plans.approve:' || $1::uuid::text, 0))", portfolio_id
    )


async def share_lock_scenario(conn: asyncpg.Connection, scenario_id: UUID) -> None:
    """Hold the scenario still until the transaction ends: edits wait, other readers do not."""
    await conn.execute("SELECT 1 FROM roadmap.scenarios WHERE id = $1 FOR SHARE", scenario_id)


async def scenario_is_locked(conn: asyncpg.Connection, scenario_id: UUID) -> bool:
    """Whether an approved plan stands on the scenario; locks the scenario row for the edit to come."""
    await conn.execute("SELECT 1 FROM roadmap.scenarios WHERE id = $1 FOR NO KEY UPDATE", scenario_id)
    # A separate statement, so it sees an approval that committed while we waited for the lock.
    return await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM roadmap.plans WHERE scenario_id = $1 AND status = 'approved')", scenario_id
    )
