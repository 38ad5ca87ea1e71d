"""The outbox's retention: a periodic job deleting events whose deliveries are all settled.

Every event stays in `events.outbox`, with one row per subscriber in `events.deliveries`, so a
subscription's delivery log can be read (`GET /roadmap/subscriptions/{id}/deliveries`). Once
every delivery of an event is delivered or given up on (`failed`), and the last of them is
older than `ROADMAP_EVENTS_RETENTION_DAYS` (Settings.events_retention_days, 14 by default), the
event and its deliveries are deleted. An event no subscriber asked for has no delivery and goes
once it is that old. A pending delivery keeps its event, however old.

PgQueuer's scheduler (services/kit/jobs.py) queues `events.prune` hourly; one worker takes it.
It deletes in batches of BATCH_SIZE, each in its own transaction, so no lock is held long, and
at most MAX_BATCHES a run, so a run after a long pause is bounded too; the next run goes on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import asyncpg

from services.kit.clock import system_clock
from services.kit.events import repository
from services.kit.jobs import JobContext, JobHandler

log = logging.getLogger("roadmap.events")

PRUNE_JOB = "events.prune"
BATCH_SIZE = 500
MAX_BATCHES = 200


async def prune_settled_events(
    conn: asyncpg.Connection,
    *,
    now: datetime,
    retention_days: int,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
) -> int:
    """Delete the events settled more than `retention_days` before `now`, batch by batch; how many."""
    settled_before = now - timedelta(days=retention_days)
    deleted = 0
    for _ in range(max_batches):
        async with conn.transaction():
            batch = await repository.delete_settled_events(conn, settled_before=settled_before, limit=batch_size)
        deleted += batch
        if batch < batch_size:
            break
    return deleted


async def prune(job: JobContext) -> None:
    """The periodic job: prune with the settings' retention, as of now."""
    retention = job.settings.events_retention_days

    async def run(conn: asyncpg.Connection) -> int:
        return await prune_settled_events(conn, now=system_clock(), retention_days=retention)

    deleted = await job.on_database("delete settled events", run)
    log.info("settled events deleted", extra={"fields": {"events": deleted, "retention_days": retention}})


HANDLERS: dict[str, JobHandler] = {PRUNE_JOB: prune}
# Hourly, off the hour the review check runs on, so the two do not start together.
SCHEDULES: dict[str, str] = {PRUNE_JOB: "30 * * * *"}
