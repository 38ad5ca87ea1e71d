"""SQL of the shared `events` schema: subscriptions, the outbox, deliveries. Connection first; no transactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class SubscriptionRow(msgspec.Struct, frozen=True):
    id: UUID
    portfolio_id: UUID
    url: str
    event_types: list[str]
    secret_ref: str
    created_by: str
    created_at: datetime


class DeliveryRow(msgspec.Struct, frozen=True):
    id: UUID
    subscription_id: UUID
    event_id: UUID
    event_type: str
    status: str
    attempts: int
    last_attempt_at: datetime | None
    last_outcome: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class PendingDelivery(msgspec.Struct, frozen=True):
    """What a delivery job needs: where to, with which secret, what, and how many tries so far."""

    id: UUID
    status: str
    attempts: int
    url: str
    secret_ref: str
    envelope: dict[str, Any]


_SUBSCRIPTION_COLUMNS = "id, portfolio_id, url, event_types, secret_ref, created_by, created_at"
_DELIVERY_COLUMNS = (
    "d.id, d.subscription_id, d.event_id, o.event_type, d.status, d.attempts, d.last_attempt_at, "
    "d.last_outcome, d.next_attempt_at, d.delivered_at, d.created_at"
)


async def insert_subscription(
    conn: asyncpg.Connection, *, portfolio_id: UUID, url: str, event_types: list[str], secret_ref: str, created_by: str
) -> SubscriptionRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO events.subscriptions (portfolio_id, url, event_types, secret_ref, created_by)
        VALUES ($1, $2, $3, $4, $5) RETURNING {_SUBSCRIPTION_COLUMNS}
        """,
        portfolio_id,
        url,
        event_types,
        secret_ref,
        created_by,
    )
    return msgspec.convert(dict(record), SubscriptionRow)


async def count_subscriptions(conn: asyncpg.Connection, portfolio_id: UUID) -> int:
    return await conn.fetchval("SELECT count(*) FROM events.subscriptions WHERE portfolio_id = $1", portfolio_id)


async def get_subscription(conn: asyncpg.Connection, subscription_id: UUID) -> SubscriptionRow | None:
    record = await conn.fetchrow(
        f"SELECT {_SUBSCRIPTION_COLUMNS} FROM events.subscriptions WHERE id = $1", subscription_id
    )
    return None if record is None else msgspec.convert(dict(record), SubscriptionRow)


async def list_subscriptions(conn: asyncpg.Connection, portfolio_id: UUID) -> list[SubscriptionRow]:
    records = await conn.fetch(
        f"SELECT {_SUBSCRIPTION_COLUMNS} FROM events.subscriptions WHERE portfolio_id = $1 ORDER BY created_at, id",
        portfolio_id,
    )
    return [msgspec.convert(dict(record), SubscriptionRow) for record in records]


async def delete_subscription(conn: asyncpg.Connection, subscription_id: UUID) -> bool:
    status = await conn.execute("DELETE FROM events.subscriptions WHERE id = $1", subscription_id)
    return status.endswith(" 1")


async def deliveries(
    conn: asyncpg.Connection, subscription_id: UUID, *, limit: int, offset: int
) -> tuple[list[DeliveryRow], int]:
    """A page of a subscription's deliveries, newest first, and how many it has."""
    records = await conn.fetch(
        f"""
        SELECT {_DELIVERY_COLUMNS}, count(*) OVER () AS total
        FROM events.deliveries d JOIN events.outbox o ON o.id = d.event_id
        WHERE d.subscription_id = $1 ORDER BY d.created_at DESC, d.id LIMIT $2 OFFSET $3
        """,
        subscription_id,
        limit,
        offset,
    )
    total = (
        records[0]["total"]
        if records
        else await conn.fetchval("SELECT count(*) FROM events.deliveries WHERE subscription_id = $1", subscription_id)
    )
    rows = [msgspec.convert({k: v for k, v in record.items() if k != "total"}, DeliveryRow) for record in records]
    return rows, total


async def insert_event(
    conn: asyncpg.Connection, *, event_id: UUID, portfolio_id: UUID, event_type: str, envelope: dict[str, Any]
) -> list[UUID]:
    """Store an event and one pending delivery per subscription that asks for its type; the deliveries' ids."""
    await conn.execute(
        "INSERT INTO events.outbox (id, portfolio_id, event_type, envelope) VALUES ($1, $2, $3, $4)",
        event_id,
        portfolio_id,
        event_type,
        envelope,
    )
    records = await conn.fetch(
        """
        INSERT INTO events.deliveries (subscription_id, event_id)
        SELECT s.id, $1 FROM events.subscriptions s
        WHERE s.portfolio_id = $2 AND $3 = ANY (s.event_types)
        RETURNING id
        """,
        event_id,
        portfolio_id,
        event_type,
    )
    return [record["id"] for record in records]


async def pending_delivery(conn: asyncpg.Connection, delivery_id: UUID) -> PendingDelivery | None:
    record = await conn.fetchrow(
        """
        SELECT d.id, d.status, d.attempts, s.url, s.secret_ref, o.envelope
        FROM events.deliveries d
        JOIN events.subscriptions s ON s.id = d.subscription_id
        JOIN events.outbox o ON o.id = d.event_id
        WHERE d.id = $1
        """,
        delivery_id,
    )
    return None if record is None else msgspec.convert(dict(record), PendingDelivery)


async def record_attempt(
    conn: asyncpg.Connection,
    delivery_id: UUID,
    *,
    attempts_before: int,
    status: str,
    outcome: str,
    retry_in_seconds: float | None,
) -> bool:
    """Record one attempt, if no other run of the job recorded this one first; whether it won."""
    result = await conn.execute(
        """
        UPDATE events.deliveries SET
            attempts = attempts + 1,
            status = $3,
            last_attempt_at = now(),
            last_outcome = $4,
            next_attempt_at = CASE WHEN $5::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $5) END,
            delivered_at = CASE WHEN $3 = 'delivered' THEN now() END
        WHERE id = $1 AND status = 'pending' AND attempts = $2
        """,
        delivery_id,
        attempts_before,
        status,
        outcome,
        retry_in_seconds,
    )
    return result.endswith(" 1")


async def delete_settled_events(conn: asyncpg.Connection, *, settled_before: datetime, limit: int) -> int:
    """Delete up to `limit` events, oldest first, settled before `settled_before`: made before it,
    no delivery still pending, and no attempt at or after it (a delivery given up on late stays
    as long as one delivered late). Their deliveries go with them (ON DELETE CASCADE). Rows
    another pruner holds are skipped, so two workers never wait on each other."""
    status = await conn.execute(
        """
        WITH settled AS (
            SELECT o.id FROM events.outbox o
            WHERE o.created_at < $1
              AND NOT EXISTS (
                  SELECT 1 FROM events.deliveries d
                  WHERE d.event_id = o.id AND (d.status = 'pending' OR d.last_attempt_at >= $1)
              )
            ORDER BY o.created_at
            LIMIT $2
            FOR UPDATE OF o SKIP LOCKED
        )
        DELETE FROM events.outbox o USING settled WHERE o.id = settled.id
        """,
        settled_before,
        limit,
    )
    return int(status.split()[-1])


class OutboxEvent(msgspec.Struct, frozen=True):
    """An event as it was recorded: whose, what kind, and the envelope sent to subscribers."""

    id: UUID
    portfolio_id: UUID
    event_type: str
    envelope: dict[str, Any]


async def get_event(conn: asyncpg.Connection, event_id: UUID) -> OutboxEvent | None:
    record = await conn.fetchrow(
        "SELECT id, portfolio_id, event_type, envelope FROM events.outbox WHERE id = $1", event_id
    )
    return None if record is None else msgspec.convert(dict(record), OutboxEvent)
