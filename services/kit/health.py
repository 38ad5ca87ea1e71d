"""Liveness, readiness and metrics endpoints, public and the same in every service."""

from __future__ import annotations

import asyncio

from litestar import Response, get
from litestar.datastructures import State

from services.kit.db import ConnectionSource
from services.kit.observability import metrics_payload
from services.kit.problems import ServiceUnavailable
from services.kit.queue_metrics import refresh_queue_gauges

READY_TIMEOUT_SECONDS = 2.0


@get("/health/live", operation_id="healthLive", include_in_schema=False, sync_to_thread=False)
def live() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@get("/health/ready", operation_id="healthReady", include_in_schema=False)
async def ready(state: State) -> dict[str, str]:
    """The process can serve requests: the database answers.

    Asked again after an outage, the pool opens fresh connections: readiness comes back by
    itself once the database answers, with no restart.
    """
    source: ConnectionSource = state.db
    try:
        # Bounded as a whole: getting a connection to an unreachable host must not hang a probe.
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), source.connection() as conn:
            await conn.fetchval("SELECT 1")
    except Exception:
        raise ServiceUnavailable("The database does not answer.") from None
    return {"status": "ok", "database": "ok"}


@get("/metrics", operation_id="metrics", include_in_schema=False)
async def metrics(state: State) -> Response[bytes]:
    """Prometheus metrics of this process, with the job queue's depth read just now."""
    await refresh_queue_gauges(state.get("db"))
    payload, content_type = metrics_payload()
    return Response(payload, media_type=content_type)


HEALTH_HANDLERS = [live, ready, metrics]
