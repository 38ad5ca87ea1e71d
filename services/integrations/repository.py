"""SQL of the integrations schema. Connection first; repositories never manage transactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.integrations.delivery_view import TrackedIdea
from services.integrations.idea_status import IssueStatus
from services.kit.access.repository import visible_portfolios


class ConnectionRow(msgspec.Struct, frozen=True):
    id: UUID
    portfolio_id: UUID
    site_url: str
    project_key: str
    account_email: str
    api_token_ref: str
    webhook_secret_ref: str | None
    mapping: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime


_CONNECTION_COLUMNS = """
    id, portfolio_id, site_url, project_key, account_email, api_token_ref, webhook_secret_ref, mapping,
    created_by, created_at, updated_at
"""


def _row(record: asyncpg.Record | None) -> ConnectionRow | None:
    return None if record is None else msgspec.convert(dict(record), ConnectionRow)


async def insert_connection(conn: asyncpg.Connection, values: dict[str, Any]) -> ConnectionRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO integrations.connections
            (portfolio_id, site_url, project_key, account_email, api_token_ref, webhook_secret_ref, mapping, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING {_CONNECTION_COLUMNS}
        """,
        values["portfolio_id"],
        values["site_url"],
        values["project_key"],
        values["account_email"],
        values["api_token_ref"],
        values["webhook_secret_ref"],
        values["mapping"],
        values["created_by"],
    )
    assert record is not None
    return msgspec.convert(dict(record), ConnectionRow)


async def get_connection(conn: asyncpg.Connection, connection_id: UUID) -> ConnectionRow | None:
    record = await conn.fetchrow(
        f"SELECT {_CONNECTION_COLUMNS} FROM integrations.connections WHERE id = $1", connection_id
    )
    return _row(record)


async def list_connections(
    conn: asyncpg.Connection, portfolio_id: UUID | None, *, scope: tuple[str, list[str]] | None
) -> list[ConnectionRow]:
    """Connections, of one portfolio or all; only of the portfolios `scope` (subject, groups) is a member of."""
    visible = "" if scope is None else f" AND {visible_portfolios('portfolio_id', first_param=2)}"
    records = await conn.fetch(
        f"""
        SELECT {_CONNECTION_COLUMNS} FROM integrations.connections
        WHERE ($1::uuid IS NULL OR portfolio_id = $1){visible} ORDER BY created_at, id
        """,
        portfolio_id,
        *([] if scope is None else scope),
    )
    return [msgspec.convert(dict(record), ConnectionRow) for record in records]


async def update_connection(conn: asyncpg.Connection, connection_id: UUID, values: dict[str, Any]) -> None:
    await conn.execute(
        """
        UPDATE integrations.connections
        SET account_email = $2, api_token_ref = $3, webhook_secret_ref = $4, mapping = $5, updated_at = now()
        WHERE id = $1
        """,
        connection_id,
        values["account_email"],
        values["api_token_ref"],
        values["webhook_secret_ref"],
        values["mapping"],
    )


async def delete_connection(conn: asyncpg.Connection, connection_id: UUID) -> bool:
    status = await conn.execute("DELETE FROM integrations.connections WHERE id = $1", connection_id)
    return status.endswith(" 1")


async def record_delivery(conn: asyncpg.Connection, connection_id: UUID, identifier: str) -> bool:
    """Remember a connection's webhook delivery; False when it was seen before (Jira retries keep the id)."""
    inserted = await conn.fetchval(
        """
        INSERT INTO integrations.webhook_deliveries (identifier, connection_id) VALUES ($1, $2)
        ON CONFLICT (connection_id, identifier) DO NOTHING RETURNING true
        """,
        identifier,
        connection_id,
    )
    return bool(inserted)


async def set_status(
    conn: asyncpg.Connection, connection_id: UUID, issue_key: str, *, category: str, name: str, happened_at: datetime
) -> bool:
    """Record an issue's status from an event, unless a later event's status is recorded already.

    False when the issue is not one of the connection's, or a newer event got there first.
    """
    status = await conn.execute(
        """
        UPDATE integrations.issue_links
        SET status_category = $3, status_name = $4, status_event_at = $5, updated_at = now()
        WHERE connection_id = $1 AND issue_key = $2 AND (status_event_at IS NULL OR status_event_at <= $5)
        """,
        connection_id,
        issue_key,
        category,
        name,
        happened_at,
    )
    return status.endswith(" 1")


async def plan_portfolio(conn: asyncpg.Connection, plan_id: UUID) -> UUID | None:
    """The portfolio of a plan this service has pushed, as its pushes' or issues' connections say."""
    return await conn.fetchval(
        """
        SELECT c.portfolio_id FROM integrations.connections c
        WHERE c.id IN (SELECT connection_id FROM integrations.pushes WHERE plan_id = $1)
           OR c.id IN (SELECT connection_id FROM integrations.issue_links WHERE plan_id = $1)
        LIMIT 1
        """,
        plan_id,
    )


async def tracked_ideas(conn: asyncpg.Connection, plan_id: UUID) -> list[TrackedIdea]:
    """The planned ideas of a plan's pushes: each one's issue, phase, status category and cost."""
    records = await conn.fetch(
        """
        SELECT item AS ref, issue_key, phase, status_category, coalesce(cost, 0)::float8 AS cost
        FROM integrations.issue_links
        WHERE plan_id = $1 AND kind = 'idea' AND planned
        ORDER BY phase, item
        """,
        plan_id,
    )
    return [msgspec.convert(dict(record), TrackedIdea) for record in records]


async def idea_issues(conn: asyncpg.Connection, portfolio_id: UUID, *, ref: str | None = None) -> list[IssueStatus]:
    """The planned issues of a portfolio's ideas (of one idea, given its ref), across its connections."""
    records = await conn.fetch(
        """
        SELECT l.item AS ref, l.issue_key, l.status_category, l.status_name, l.plan_id
        FROM integrations.issue_links l JOIN integrations.connections c ON c.id = l.connection_id
        WHERE c.portfolio_id = $1 AND l.kind = 'idea' AND l.planned AND ($2::text IS NULL OR l.item = $2)
        ORDER BY l.item, l.issue_key
        """,
        portfolio_id,
        ref,
    )
    return [IssueStatus(**dict(record)) for record in records]


async def last_snapshot(conn: asyncpg.Connection, plan_id: UUID) -> dict[str, Any] | None:
    """The plan as its latest push read it (titles, owners, due dates), or None if never pushed."""
    return await conn.fetchval(
        "SELECT snapshot FROM integrations.pushes WHERE plan_id = $1 ORDER BY created_at DESC, id LIMIT 1", plan_id
    )


# --- the link table ------------------------------------------------------------------


class LinkRow(msgspec.Struct, frozen=True):
    kind: str
    item: str
    issue_key: str
    fields_fingerprint: str
    planned: bool
    pushed_labels: tuple[str, ...] = ()  # the labels the last push of it set


async def links_of(conn: asyncpg.Connection, connection_id: UUID) -> tuple[list[LinkRow], set[tuple[str, str]]]:
    """The link table of a connection: its issues, and its Blocks links as (blocker, blocked) refs."""
    records = await conn.fetch(
        """
        SELECT kind, item, issue_key, fields_fingerprint, planned, pushed_labels FROM integrations.issue_links
        WHERE connection_id = $1
        """,
        connection_id,
    )
    blocks = await conn.fetch(
        "SELECT blocker, blocked FROM integrations.blocks_links WHERE connection_id = $1", connection_id
    )
    return [msgspec.convert(dict(r), LinkRow) for r in records], {(b["blocker"], b["blocked"]) for b in blocks}


async def record_issue(
    conn: asyncpg.Connection,
    connection_id: UUID,
    *,
    kind: str,
    item: str,
    issue_key: str,
    issue_id: str,
    label: str,
    phase: str | None,
    cost: float | None,
    fingerprint: str,
    plan_id: UUID,
    labels: list[str],
) -> None:
    """Record (or refresh) the issue of an epic or an idea, with the labels the push set on it;
    the first issue recorded for an item stays."""
    await conn.execute(
        """
        INSERT INTO integrations.issue_links
            (connection_id, kind, item, issue_key, issue_id, label, phase, cost, fields_fingerprint, plan_id, planned,
             pushed_labels)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, true, $11)
        ON CONFLICT (connection_id, kind, item) DO UPDATE
        SET phase = excluded.phase, cost = excluded.cost, fields_fingerprint = excluded.fields_fingerprint,
            plan_id = excluded.plan_id, planned = true, pushed_labels = excluded.pushed_labels, updated_at = now()
        """,
        connection_id,
        kind,
        item,
        issue_key,
        issue_id,
        label,
        phase,
        cost,
        fingerprint,
        plan_id,
        labels,
    )


async def record_blocks(conn: asyncpg.Connection, connection_id: UUID, blocker: str, blocked: str) -> None:
    await conn.execute(
        "INSERT INTO integrations.blocks_links (connection_id, blocker, blocked) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        connection_id,
        blocker,
        blocked,
    )


async def mark_unplanned(conn: asyncpg.Connection, connection_id: UUID, item: str) -> None:
    await conn.execute(
        """
        UPDATE integrations.issue_links SET planned = false, updated_at = now()
        WHERE connection_id = $1 AND kind = 'idea' AND item = $2
        """,
        connection_id,
        item,
    )


class TrackedIssue(msgspec.Struct, frozen=True):
    connection_id: UUID
    issue_key: str
    label: str


async def tracked_issues(conn: asyncpg.Connection, *, plan_id: UUID | None = None) -> list[TrackedIssue]:
    """The planned ideas' issues whose status the delivery view shows: of one plan, or of every plan."""
    records = await conn.fetch(
        """
        SELECT connection_id, issue_key, label FROM integrations.issue_links
        WHERE kind = 'idea' AND planned AND ($1::uuid IS NULL OR plan_id = $1)
        ORDER BY connection_id, issue_key
        """,
        plan_id,
    )
    return [msgspec.convert(dict(record), TrackedIssue) for record in records]


async def refresh_due(conn: asyncpg.Connection, interval_seconds: float) -> bool:
    """Take the turn to refresh every plan's delivery, if the last refresh is `interval_seconds` old:
    of several workers, one a period wins."""
    won = await conn.fetchval(
        """
        INSERT INTO integrations.delivery_refresh AS r (singleton, refreshed_at) VALUES (true, now())
        ON CONFLICT (singleton) DO UPDATE SET refreshed_at = now()
        WHERE r.refreshed_at <= now() - make_interval(secs => $1)
        RETURNING true
        """,
        interval_seconds,
    )
    return bool(won)


async def read_status(
    conn: asyncpg.Connection, connection_id: UUID, issue_key: str, *, category: str, name: str, read_at: datetime
) -> bool:
    """Record an issue's status as read from Jira at `read_at` (a webhook event after it still wins);
    True when its category changed."""
    changed = await conn.fetchval(
        """
        WITH old AS (
            SELECT status_category FROM integrations.issue_links WHERE connection_id = $1 AND issue_key = $2 FOR UPDATE
        )
        UPDATE integrations.issue_links l
        SET status_category = $3, status_name = $4, status_event_at = $5, updated_at = now()
        FROM old
        WHERE l.connection_id = $1 AND l.issue_key = $2 AND (l.status_event_at IS NULL OR l.status_event_at <= $5)
        RETURNING old.status_category IS DISTINCT FROM $3
        """,
        connection_id,
        issue_key,
        category,
        name,
        read_at,
    )
    return bool(changed)
