"""An idea's history and the date and author of its estimates, written with every change.

The write use cases (service.py) call `record_created` and `record_updated` in their
transaction, with the caller and the clock's time: a change that touches an estimate makes a
new estimate (`estimatedAt`, `estimatedBy`) and ends any staleness the review check recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access import service as access
from services.kit.access.rights import READ
from services.kit.auth import Caller
from services.kit.problems import NotFound
from services.scoring.domain import IdeaDraft
from services.scoring.repository import IdeaRow
from services.scoring.review_rules import Change, changes, estimates_changed


class HistoryRow(msgspec.Struct, frozen=True):
    at: datetime
    by: str
    action: str
    changes: list[Change]


async def record_created(
    conn: asyncpg.Connection, rows: Sequence[IdeaRow], drafts: Sequence[IdeaDraft], *, by: str, at: datetime
) -> list[IdeaRow]:
    """Stamp new ideas' estimates and write their first history entry; the rows as stored."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    await conn.execute(
        "UPDATE scoring.ideas SET estimated_at = $2, estimated_by = $3 WHERE id = ANY($1::uuid[])", ids, at, by
    )
    entries = [msgspec.json.encode(changes(None, draft)).decode() for draft in drafts]
    await conn.execute(
        """
        INSERT INTO scoring.idea_history (idea_id, at, by, action, changes)
        SELECT t.idea_id, $3, $4, 'created', t.changes::jsonb FROM unnest($1::uuid[], $2::text[]) AS t(idea_id, changes)
        """,
        ids,
        entries,
        at,
        by,
    )
    return [msgspec.structs.replace(row, estimated_at=at, estimated_by=by, stale_since=None) for row in rows]


async def record_updated(
    conn: asyncpg.Connection, before: IdeaDraft, after: IdeaDraft, row: IdeaRow, *, by: str, at: datetime
) -> IdeaRow:
    """Write what an update changed (nothing if it changed nothing); a new estimate is stamped."""
    found = changes(before, after)
    if not found:
        return row
    await conn.execute(
        "INSERT INTO scoring.idea_history (idea_id, at, by, action, changes) VALUES ($1, $2, $3, 'updated', $4)",
        row.id,
        at,
        by,
        msgspec.to_builtins(found),
    )
    if not estimates_changed(found):
        return row
    await conn.execute(
        "UPDATE scoring.ideas SET estimated_at = $2, estimated_by = $3, stale_since = NULL WHERE id = $1",
        row.id,
        at,
        by,
    )
    return msgspec.structs.replace(row, estimated_at=at, estimated_by=by, stale_since=None)


async def idea_history(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str) -> list[HistoryRow]:
    """Every change of an idea, oldest first: who, when, and each field from what to what."""
    await access.require_access(conn, caller, portfolio_id, READ)
    idea_id = await conn.fetchval(
        "SELECT id FROM scoring.ideas WHERE portfolio_id = $1 AND ref = $2", portfolio_id, ref
    )
    if idea_id is None:
        raise NotFound(f"There is no idea {ref!r} in this portfolio.")
    records = await conn.fetch(
        "SELECT at, by, action, changes FROM scoring.idea_history WHERE idea_id = $1 ORDER BY id", idea_id
    )
    return [msgspec.convert(dict(record), HistoryRow) for record in records]
