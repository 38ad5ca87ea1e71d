"""The `push.started` and `push.finished` events: a push was asked for, and reached a final state.

Each is emitted on the connection and inside the transaction that records what it tells (the
push's row, its final state), so the event commits with it or not at all
(services/kit/events/service.py). Subscribers hear of them, and so does the roadmap: its plan's
audit trail records each push from these events (services/roadmap/plans/push_audit_jobs.py),
which is how integrations reaches the roadmap's audit without writing the roadmap's tables.
So `push.finished` carries everything the audit entry shows: the final state, the counts as
the push record computes them (outcome_counts), and who started the push with which role.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from services.integrations.push_repository import PushRow
from services.kit.events.service import emit


def _about(push: PushRow) -> dict[str, Any]:
    return {"pushId": str(push.id), "planId": str(push.plan_id), "connectionId": str(push.connection_id),
            "startedBy": push.created_by, "startedByRole": push.created_by_role,
            "startedAt": push.created_at.isoformat(), "link": f"/integrations/pushes/{push.id}"}  # fmt: skip


async def push_started(conn: asyncpg.Connection, push: PushRow, *, portfolio_id: UUID) -> None:
    """Tell subscribers (and the plan's audit trail) that `push` was asked for, and by whom."""
    await emit(conn, "push.started", portfolio_id=portfolio_id, subject=f"pushes/{push.id}", data=_about(push))


async def push_finished(
    conn: asyncpg.Connection, push: PushRow, *, portfolio_id: UUID, status: str, counts: dict[str, int],
    cancelled_by: str | None = None,
) -> None:  # fmt: skip
    """Tell subscribers (and the plan's audit trail) that `push` ended `status` (succeeded,
    partial, failed or cancelled), with what Jira did and who asked to cancel it, if anyone did."""
    data = {**_about(push), "status": status, "counts": counts, "cancelledBy": cancelled_by}
    await emit(conn, "push.finished", portfolio_id=portfolio_id, subject=f"pushes/{push.id}", data=data)
