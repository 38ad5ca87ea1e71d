"""SQL of pushes: their record, the claim of an attempt, waits, cancellation, and lists.

Connection first; repositories never manage transactions. Every write of an attempt is guarded
by its attempt number, so only the latest attempt of a push records progress or an outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access.repository import visible_portfolios


class PushRow(msgspec.Struct, frozen=True):
    id: UUID
    connection_id: UUID
    plan_id: UUID
    status: str
    progress: dict[str, Any]
    operations: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    attempts: int
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    waiting_since: datetime | None = None
    waiting_until: datetime | None = None
    outage_waits: int = 0
    last_error: str | None = None
    cancel_requested_by: str | None = None
    cancel_requested_at: datetime | None = None
    unmapped_owners: list[dict[str, Any]] = []
    # The role on the portfolio that allowed the start (None before release 0020): the plan's audit names it.
    created_by_role: str | None = None


class Finished(msgspec.Struct, frozen=True):
    """What recording a push's final state tells the event about it."""

    portfolio_id: UUID
    cancel_requested_by: str | None


_PUSH_COLUMNS = """
    id, connection_id, plan_id, status, progress, operations, errors, attempts, created_by, created_at, finished_at,
    waiting_since, waiting_until, outage_waits, last_error, cancel_requested_by, cancel_requested_at, unmapped_owners,
    created_by_role
"""
FINAL = ("succeeded", "partial", "failed", "cancelled")


def _push(record: asyncpg.Record) -> PushRow:
    return msgspec.convert(dict(record), PushRow)


async def insert_push(
    conn: asyncpg.Connection, *, connection_id: UUID, plan_id: UUID, snapshot: dict[str, Any], created_by: str,
    created_by_role: str,
) -> PushRow:  # fmt: skip
    record = await conn.fetchrow(
        f"""
        INSERT INTO integrations.pushes (connection_id, plan_id, snapshot, created_by, created_by_role)
        VALUES ($1, $2, $3, $4, $5) RETURNING {_PUSH_COLUMNS}
        """,
        connection_id,
        plan_id,
        snapshot,
        created_by,
        created_by_role,
    )
    return _push(record)


async def get_push(conn: asyncpg.Connection, push_id: UUID) -> PushRow | None:
    record = await conn.fetchrow(f"SELECT {_PUSH_COLUMNS} FROM integrations.pushes WHERE id = $1", push_id)
    return None if record is None else _push(record)


async def list_pushes(
    conn: asyncpg.Connection, *, plan_id: UUID | None = None, connection_id: UUID | None = None,
    scope: tuple[str, list[str]] | None, limit: int = 200,
) -> list[PushRow]:  # fmt: skip
    """Pushes of a plan or of a connection, newest first, of the portfolios `scope` (subject, groups) reaches."""
    visible = "" if scope is None else f" AND {visible_portfolios('c.portfolio_id', first_param=4)}"
    columns = ", ".join(f"p.{name.strip()}" for name in _PUSH_COLUMNS.split(","))
    records = await conn.fetch(
        f"""
        SELECT {columns} FROM integrations.pushes p JOIN integrations.connections c ON c.id = p.connection_id
        WHERE ($1::uuid IS NULL OR p.plan_id = $1) AND ($2::uuid IS NULL OR p.connection_id = $2){visible}
        ORDER BY p.created_at DESC, p.id LIMIT $3
        """,
        plan_id,
        connection_id,
        limit,
        *([] if scope is None else scope),
    )
    return [_push(record) for record in records]


async def cancel_push(conn: asyncpg.Connection, push_id: UUID, *, by: str) -> PushRow | None:
    """Cancel a push not finished: a queued or waiting one at once, a running one at its next
    write to Jira (its attempt sees the request). None when the push had already finished."""
    record = await conn.fetchrow(
        f"""
        UPDATE integrations.pushes
        SET cancel_requested_by = coalesce(cancel_requested_by, $2),
            cancel_requested_at = coalesce(cancel_requested_at, now()),
            status = CASE WHEN status = 'running' THEN status ELSE 'cancelled' END,
            finished_at = CASE WHEN status = 'running' THEN finished_at ELSE now() END,
            waiting_until = NULL
        WHERE id = $1 AND status IN ('queued', 'running', 'waiting')
        RETURNING {_PUSH_COLUMNS}
        """,
        push_id,
        by,
    )
    return None if record is None else _push(record)


async def stop_reason(conn: asyncpg.Connection, push: PushRow, portfolio_id: UUID) -> tuple[str, str] | None:
    """Why a push must stop before its next write: ("cancelled", who) or ("superseded", which plan).

    A plan is superseded when another of its portfolio is approved; this service sees that as a
    push of another plan of the portfolio asked for after this one (only an approved plan is pushed).
    """
    record = await conn.fetchrow(
        """
        SELECT (SELECT cancel_requested_by FROM integrations.pushes WHERE id = $1) AS cancelled_by,
               (SELECT p.plan_id FROM integrations.pushes p JOIN integrations.connections c ON c.id = p.connection_id
                WHERE c.portfolio_id = $2 AND p.plan_id <> $3 AND p.created_at > $4
                ORDER BY p.created_at LIMIT 1) AS newer_plan
        """,
        push.id,
        portfolio_id,
        push.plan_id,
        push.created_at,
    )
    if record["cancelled_by"] is not None:
        return "cancelled", record["cancelled_by"]
    if record["newer_plan"] is not None:
        return "superseded", str(record["newer_plan"])
    return None


async def claim_push(conn: asyncpg.Connection, push_id: UUID, job_id: int) -> tuple[PushRow, dict[str, Any]] | None:
    """Take a push for this attempt: a queued or waiting one, or one left running by a dead worker.

    A push that waited is taken only by the job enqueued when it began to wait (a late second
    delivery of an earlier job does nothing). Each claim is a new attempt number; only the
    latest attempt can record progress or an outcome.
    """
    record = await conn.fetchrow(
        f"""
        UPDATE integrations.pushes SET status = 'running', attempts = attempts + 1, waiting_until = NULL
        WHERE id = $1 AND status IN ('queued', 'running', 'waiting') AND (job_id IS NULL OR job_id = $2)
        RETURNING {_PUSH_COLUMNS}, snapshot
        """,
        push_id,
        job_id,
    )
    if record is None:
        return None
    return _push({k: v for k, v in dict(record).items() if k != "snapshot"}), record["snapshot"]  # type: ignore[arg-type]


async def push_progress(conn: asyncpg.Connection, push_id: UUID, attempt: int, progress: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE integrations.pushes SET progress = $3 WHERE id = $1 AND attempts = $2 AND status = 'running'",
        push_id,
        attempt,
        progress,
    )


async def finish_push(
    conn: asyncpg.Connection,
    push_id: UUID,
    attempt: int,
    *,
    status: str,
    operations: list[dict[str, Any]],
    errors: list[dict[str, Any]],
    unmapped_owners: list[dict[str, Any]] | None = None,
) -> Finished | None:
    """Record this attempt's final state; the push's portfolio and who asked to cancel it, or None
    when another attempt (or an earlier try of this write whose answer was lost) already finished it."""
    # A push that got through closes the outage it may have waited out; a failure keeps it on record.
    # Owners not mapped are those the last attempt that learnt them found (kept when it learnt none).
    record = await conn.fetchrow(
        """
        UPDATE integrations.pushes
        SET status = $3, operations = $4, errors = $5, finished_at = now(), waiting_until = NULL,
            unmapped_owners = COALESCE($6, unmapped_owners),
            waiting_since = CASE WHEN $3 IN ('succeeded', 'partial') THEN NULL ELSE waiting_since END,
            last_error = CASE WHEN $3 IN ('succeeded', 'partial') THEN NULL ELSE last_error END
        WHERE id = $1 AND attempts = $2 AND status = 'running'
        RETURNING coalesce((SELECT c.portfolio_id FROM integrations.connections c WHERE c.id = connection_id),
                           (snapshot->>'portfolio_id')::uuid) AS portfolio_id, cancel_requested_by
        """,
        push_id,
        attempt,
        status,
        operations,
        errors,
        unmapped_owners,
    )
    return None if record is None else msgspec.convert(dict(record), Finished)


async def wait_push(
    conn: asyncpg.Connection,
    push_id: UUID,
    attempt: int,
    *,
    since: datetime | None,
    until: datetime,
    waits: int,
    last_error: str,
    operations: list[dict[str, Any]],
) -> bool:
    """Record that this attempt stopped (Jira unavailable, or another push's turn) and the push
    waits until `until` (or is cancelled, when that was asked meanwhile); False if a later
    attempt superseded this one.

    Give the job that will carry the push on (`set_push_job`) in the same transaction.
    """
    outcome = await conn.execute(
        """
        UPDATE integrations.pushes
        SET status = CASE WHEN cancel_requested_at IS NULL THEN 'waiting' ELSE 'cancelled' END,
            finished_at = CASE WHEN cancel_requested_at IS NULL THEN NULL ELSE now() END,
            waiting_since = $3, waiting_until = CASE WHEN cancel_requested_at IS NULL THEN $4::timestamptz END,
            outage_waits = $5, last_error = $6, operations = $7
        WHERE id = $1 AND attempts = $2 AND status = 'running'
        """,
        push_id,
        attempt,
        since,
        until,
        waits,
        last_error,
        operations,
    )
    return outcome.endswith(" 1")


async def lock_connection(conn: asyncpg.Connection, connection_id: UUID) -> bool:
    """Take the session lock that lets one push at a time write to a connection's Jira project."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", f"push:{connection_id}"))


async def unlock_connection(conn: asyncpg.Connection, connection_id: UUID) -> None:
    await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", f"push:{connection_id}")


async def set_push_job(conn: asyncpg.Connection, push_id: UUID, job_id: int) -> None:
    await conn.execute("UPDATE integrations.pushes SET job_id = $2 WHERE id = $1", push_id, job_id)
