"""Job entrypoints of the scoring service: the periodic review check of estimates.

PgQueuer's scheduler (services/kit/schedules.py) enqueues `scoring.review_staleness` on the
cron expression in SCHEDULES; any worker takes the job. Running it twice records nothing twice:
an idea is stamped once, when it is first found stale (staleness.mark_stale).
"""

from __future__ import annotations

import logging

import asyncpg

from services.kit.clock import system_clock
from services.kit.jobs import JobContext, JobHandler
from services.scoring import staleness

log = logging.getLogger("scoring.reviews")

REVIEW_STALENESS_JOB = "scoring.review_staleness"


async def review_staleness(job: JobContext) -> None:
    """Stamp the ideas that became stale since the last check, and tell the portfolios' subscribers."""

    async def check(conn: asyncpg.Connection) -> list[staleness.BecameStale]:
        async with conn.transaction():
            return await staleness.mark_stale(conn, now=system_clock())

    found = await job.on_database("record stale estimates", check)
    for entry in found:
        fields = {"portfolio_id": str(entry.portfolio_id), "ideas": len(entry.refs)}
        log.info("estimates became stale", extra={"fields": fields})


HANDLERS: dict[str, JobHandler] = {REVIEW_STALENESS_JOB: review_staleness}
# Hourly: a cadence is counted in days, so an idea is flagged within the hour it goes stale.
SCHEDULES: dict[str, str] = {REVIEW_STALENESS_JOB: "0 * * * *"}
