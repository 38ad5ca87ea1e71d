"""The `push.finished` event: told to the portfolio's subscribers when a push reaches a final state.

Emitted on the connection and inside the transaction that records the final state, so the event
commits with it or not at all (services/kit/events/service.py).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.integrations.push_repository import PushRow
from services.kit.events.service import emit


async def push_finished(
    conn: asyncpg.Connection, push: PushRow, *, portfolio_id: UUID, status: str, counts: dict[str, int]
) -> None:
    """Tell subscribers that `push` ended `status` (succeeded, partial, failed or cancelled), with what Jira did."""
    data = {"pushId": str(push.id), "planId": str(push.plan_id), "connectionId": str(push.connection_id),
            "status": status, "counts": counts, "link": f"/integrations/pushes/{push.id}"}  # fmt: skip
    await emit(conn, "push.finished", portfolio_id=portfolio_id, subject=f"pushes/{push.id}", data=data)
