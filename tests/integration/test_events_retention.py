"""The events outbox is cleaned: settled events older than the retention go, with their deliveries,
in bounded batches; pending ones and recent ones stay (services/kit/events/retention.py).

Rows are back-dated in the real database. The pruning itself runs in the test's rolled-back
transaction with a fixed "now"; the periodic job's handler runs on a database of its own, with
the system clock and the settings' retention, as a worker runs it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from services.kit import migrate
from services.kit.db import PoolSource
from services.kit.events import retention
from services.kit.jobs import JobContext

pytestmark = pytest.mark.integration

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


async def a_portfolio(conn) -> uuid.UUID:
    return await conn.fetchval("INSERT INTO access.portfolios DEFAULT VALUES RETURNING id")


async def subscription(conn, portfolio_id: uuid.UUID) -> uuid.UUID:
    return await conn.fetchval(
        """
        INSERT INTO events.subscriptions (portfolio_id, url, event_types, secret_ref, created_by)
        VALUES ($1, 'https://hooks.example.com/roadmap', '{plan.approved}', 'env:ROADMAP_SECRET_HOOK', 'pm@example.com')
        RETURNING id
        """,
        portfolio_id,
    )


async def event(conn, portfolio_id: uuid.UUID, *, age_days: float, deliveries=()) -> uuid.UUID:
    """An event made `age_days` before NOW, with deliveries given as (subscription, status, last attempt days ago)."""
    event_id = uuid.uuid4()
    created = NOW - timedelta(days=age_days)
    await conn.execute(
        "INSERT INTO events.outbox (id, portfolio_id, event_type, envelope, created_at) VALUES ($1, $2, 'plan.approved', '{}', $3)",
        event_id, portfolio_id, created,
    )  # fmt: skip
    for subscription_id, status, attempt_days in deliveries:
        attempted = None if attempt_days is None else NOW - timedelta(days=attempt_days)
        await conn.execute(
            """
            INSERT INTO events.deliveries (subscription_id, event_id, status, attempts, last_attempt_at, delivered_at, created_at)
            VALUES ($1, $2, $3, $4, $5::timestamptz, CASE WHEN $3::text = 'delivered' THEN $5::timestamptz END, $6)
            """,
            subscription_id, event_id, status, 0 if attempted is None else 1, attempted, created,
        )  # fmt: skip
    return event_id


async def remaining(conn, ids) -> set[uuid.UUID]:
    rows = await conn.fetch("SELECT id FROM events.outbox WHERE id = ANY($1::uuid[])", list(ids))
    return {row["id"] for row in rows}


async def test_settled_events_older_than_the_retention_go_with_their_deliveries_and_the_rest_stay(conn):
    portfolio = await a_portfolio(conn)
    chat, mail = await subscription(conn, portfolio), await subscription(conn, portfolio)
    gone = {
        "delivered to both": await event(conn, portfolio, age_days=30, deliveries=[(chat, "delivered", 30), (mail, "delivered", 29)]),
        "one delivered, one given up": await event(conn, portfolio, age_days=20, deliveries=[(chat, "delivered", 20), (mail, "failed", 19)]),
        "asked for by nobody": await event(conn, portfolio, age_days=15),
    }  # fmt: skip
    kept = {
        "still pending": await event(conn, portfolio, age_days=40, deliveries=[(chat, "delivered", 40), (mail, "pending", 1)]),
        "pending, never tried": await event(conn, portfolio, age_days=40, deliveries=[(chat, "pending", None)]),
        "delivered recently": await event(conn, portfolio, age_days=3, deliveries=[(chat, "delivered", 3)]),
        "given up on within the retention": await event(conn, portfolio, age_days=16, deliveries=[(chat, "failed", 10)]),
        "younger than the retention": await event(conn, portfolio, age_days=13),
    }  # fmt: skip

    deleted = await retention.prune_settled_events(conn, now=NOW, retention_days=14)

    assert deleted == len(gone)
    assert await remaining(conn, gone.values()) == set()
    assert await remaining(conn, kept.values()) == set(kept.values())
    left = await conn.fetchval(
        "SELECT count(*) FROM events.deliveries WHERE event_id = ANY($1::uuid[])", list(gone.values())
    )
    assert left == 0
    # A longer retention keeps what a shorter one would delete.
    younger = await event(conn, portfolio, age_days=20, deliveries=[(chat, "delivered", 20)])
    assert await retention.prune_settled_events(conn, now=NOW, retention_days=30) == 0
    assert await remaining(conn, [younger]) == {younger}


async def test_pruning_goes_in_bounded_batches_oldest_first(conn):
    portfolio = await a_portfolio(conn)
    chat = await subscription(conn, portfolio)
    old = [await event(conn, portfolio, age_days=100 - n, deliveries=[(chat, "delivered", 100 - n)]) for n in range(7)]

    # Two batches of three at most: six go, the oldest first; the next run takes the last.
    assert await retention.prune_settled_events(conn, now=NOW, retention_days=14, batch_size=3, max_batches=2) == 6
    assert await remaining(conn, old) == {old[-1]}
    assert await retention.prune_settled_events(conn, now=NOW, retention_days=14, batch_size=3, max_batches=2) == 1
    assert await remaining(conn, old) == set()


@pytest.fixture
def retention_database_url(make_database) -> str:
    url = make_database("retention")
    migrate.upgrade(url)
    return url


async def test_the_periodic_job_deletes_with_the_settings_retention_as_of_now(settings, retention_database_url):
    settings = msgspec.structs.replace(settings, database_url=retention_database_url, events_retention_days=7)
    source = await PoolSource.open(settings)
    try:
        async with source.pool.acquire() as conn:
            portfolio = await a_portfolio(conn)
            chat = await subscription(conn, portfolio)
            # Back-dated from the real "now": a month-old delivered event, and a day-old one.
            month_old, day_old = uuid.uuid4(), uuid.uuid4()
            for event_id, age in ((month_old, "30 days"), (day_old, "1 day")):
                await conn.execute(
                    f"""
                    WITH made AS (
                        INSERT INTO events.outbox (id, portfolio_id, event_type, envelope, created_at)
                        VALUES ($1, $2, 'plan.approved', '{{}}', now() - interval '{age}') RETURNING id, created_at
                    )
                    INSERT INTO events.deliveries (subscription_id, event_id, status, attempts, last_attempt_at, delivered_at)
                    SELECT $3, id, 'delivered', 1, created_at, created_at FROM made
                    """,
                    event_id, portfolio, chat,
                )  # fmt: skip
        job = JobContext(job_id=1, entrypoint=retention.PRUNE_JOB, payload=b"", attempt=0, settings=settings,
                         pool=source.pool)  # fmt: skip
        await retention.HANDLERS[retention.PRUNE_JOB](job)
        async with source.pool.acquire() as conn:
            left = {row["id"] for row in await conn.fetch("SELECT id FROM events.outbox")}
            deliveries = await conn.fetchval("SELECT count(*) FROM events.deliveries")
    finally:
        await source.close()
    assert left == {day_old}
    assert deliveries == 1
    assert retention.SCHEDULES == {retention.PRUNE_JOB: "30 * * * *"}
