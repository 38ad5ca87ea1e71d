"""SQL of the audit entries about pushes. Connection first; never manages transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

_UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


async def insert_once(
    conn: asyncpg.Connection,
    plan_id: UUID,
    *,
    origin: str,
    action: str,
    actor: str,
    actor_role: str,
    at: datetime,
    input_fingerprint: str,
    solver: str | None,
    detail: dict[str, Any],
) -> bool:
    """Append an entry named by `origin` to the plan's audit trail, unless it is there; whether it was written."""
    status = await conn.execute(
        """
        INSERT INTO roadmap.audit_events
            (plan_id, origin, action, actor, actor_role, at, input_fingerprint, solver, detail)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (origin) DO NOTHING
        """,
        plan_id,
        origin,
        action,
        actor,
        actor_role,
        at,
        input_fingerprint,
        solver,
        detail,
    )
    return status.endswith(" 1")


async def unaudited_push_events(
    conn: asyncpg.Connection, event_types: Sequence[str], *, within_days: int, settled_seconds: float, limit: int
) -> list[UUID]:
    """Push events of the last `within_days`, and older than `settled_seconds` (their own job
    has had its chance), whose audit entry is missing; oldest first, at most `limit`.

    Only events of this release on (they name who started the push), about a plan of their own
    portfolio (any other is never audited, so it is not offered again). The entry names are
    push_audit.push_origin's. `events` is the kit's schema that every service shares, as `access`.
    """
    records = await conn.fetch(
        """
        SELECT o.id FROM events.outbox o
        WHERE o.event_type = ANY ($1::text[])
          AND o.created_at BETWEEN now() - make_interval(days => $4) AND now() - make_interval(secs => $5)
          AND o.envelope -> 'data' ? 'startedBy'
          AND NOT EXISTS (
              SELECT 1 FROM roadmap.audit_events a
              WHERE a.origin = 'push:' || (o.envelope -> 'data' ->> 'pushId')
                               || CASE o.event_type WHEN 'push.started' THEN ':started' ELSE ':finished' END)
          AND EXISTS (
              SELECT 1 FROM roadmap.plans p
              WHERE p.portfolio_id = o.portfolio_id
                AND p.id = CASE WHEN o.envelope -> 'data' ->> 'planId' ~ $3
                                THEN (o.envelope -> 'data' ->> 'planId')::uuid END)
        ORDER BY o.created_at, o.id
        LIMIT $2
        """,
        list(event_types),
        limit,
        _UUID,
        within_days,
        settled_seconds,
    )
    return [record["id"] for record in records]
