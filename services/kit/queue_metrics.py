"""Job queue gauges for Prometheus, read from the queue table when `/metrics` is scraped.

The queue lives in PostgreSQL, so any process that reaches the database sees all of it:
every service reports the same figures, and dashboards should take `max` over instances.
A scrape never waits long for them: when the database is slow or away the gauges keep
their last values and the scrape still answers.
"""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import Gauge

from services.kit.db import ConnectionSource
from services.kit.jobs import QUEUE_SCHEMA
from services.kit.observability import REGISTRY

log = logging.getLogger("roadmap.metrics")

QUEUE_READ_TIMEOUT_SECONDS = 1.0

# With several server processes each reads the same queue: a scrape reports the largest
# figure among the live ones (`livemax`), not their sum.
JOBS = Gauge(
    "jobs_in_queue",
    "Jobs in the queue by entrypoint and status (queued, picked)",
    ["entrypoint", "status"],
    registry=REGISTRY,
    multiprocess_mode="livemax",
)
OLDEST_QUEUED = Gauge(
    "jobs_oldest_queued_age_seconds",
    "Age of the oldest job still waiting for a worker, by entrypoint (0 when none waits)",
    ["entrypoint"],
    registry=REGISTRY,
    multiprocess_mode="livemax",
)
_reported: set[tuple[str, ...]] = set()  # label sets given a value so far, zeroed when they empty

_QUEUE_QUERY = f"""
    SELECT entrypoint, status::text AS status, count(*) AS jobs,
           coalesce(extract(epoch FROM now() - min(created)), 0) AS oldest_seconds
    FROM {QUEUE_SCHEMA}.pgqueuer
    GROUP BY entrypoint, status
"""


async def refresh_queue_gauges(source: ConnectionSource | None) -> None:
    """Set the gauges from the queue table, or leave them as they are if it cannot be read in time."""
    if source is None:
        return
    try:
        async with asyncio.timeout(QUEUE_READ_TIMEOUT_SECONDS), source.connection() as conn:
            rows = await conn.fetch(_QUEUE_QUERY)
    except Exception as exc:  # a scrape must answer even when the database does not
        log.info("job queue gauges not refreshed: %s", type(exc).__name__)
        return
    # Zero what was reported before, so an entrypoint whose jobs are all done drops to 0
    # rather than reporting its last count for ever. (Not `clear()`: with several server
    # processes the values live in shared files that `clear()` does not reach.)
    for labels in _reported:
        (JOBS if len(labels) == 2 else OLDEST_QUEUED).labels(*labels).set(0)
    for row in rows:
        JOBS.labels(row["entrypoint"], row["status"]).set(row["jobs"])
        _reported.add((row["entrypoint"], row["status"]))
        if row["status"] == "queued":
            OLDEST_QUEUED.labels(row["entrypoint"]).set(float(row["oldest_seconds"]))
            _reported.add((row["entrypoint"],))
