"""The job that offers one event to one subscriber, again and again until it is taken.

One job per delivery (payload: the delivery's id). Each run makes one attempt: read the
subscription's secret, sign the envelope (envelope.py), POST it through the outbound guard,
and record what came of it. An attempt that is not taken (no 2xx, no answer, refused) is tried
again after a doubling wait, by a new job enqueued in the transaction that records the attempt
(services/kit/jobs.py: how a handler asks to be run later), until the settings' attempts are
spent and the delivery is `failed`.

Delivery is at least once: the queue may run a job twice, and a subscriber's 2xx may be lost
on the way back. Recording an attempt is conditional on the attempts counted so far, so only
one run records it and queues the next; the event's id lets a subscriber drop a repeat.
"""

from __future__ import annotations

import logging
import time
from uuid import UUID

import asyncpg
import httpx
import msgspec

from services.kit import jobs
from services.kit.events import repository
from services.kit.events.envelope import Envelope, RetryPolicy, body_of, delivered, signed_headers
from services.kit.events.repository import PendingDelivery
from services.kit.jobs import JobContext, JobHandler
from services.kit.outbound import OutboundGuard, OutboundRefused
from services.kit.secrets import SecretError, read_secret
from services.kit.settings import Settings

log = logging.getLogger("roadmap.events")

DELIVER_JOB = "events.deliver"


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.event_max_attempts,
        first_delay_seconds=settings.event_first_retry_seconds,
        max_delay_seconds=settings.event_max_retry_seconds,
    )


async def deliver(job: JobContext) -> None:
    """Make the next attempt of the delivery named by the job, and record it once."""
    delivery_id = UUID(job.payload.decode())
    pending = await job.on_database("read a delivery", lambda conn: repository.pending_delivery(conn, delivery_id))
    if pending is None or pending.status != "pending":
        return  # delivered or given up by an earlier run, or its subscription was deleted
    taken, outcome = await attempt(job.settings, pending)
    delay = None if taken else retry_policy(job.settings).delay_after(pending.attempts + 1)
    status = "delivered" if taken else ("pending" if delay is not None else "failed")

    async def record(conn: asyncpg.Connection) -> bool:
        async with conn.transaction():
            won = await repository.record_attempt(
                conn,
                delivery_id,
                attempts_before=pending.attempts,
                status=status,
                outcome=outcome,
                retry_in_seconds=delay,
            )
            if won and delay is not None:
                await jobs.enqueue(conn, DELIVER_JOB, job.payload, delay=delay)
            return won

    won = await job.on_database("record a delivery attempt", record)
    fields = {"delivery_id": str(delivery_id), "attempt": pending.attempts + 1, "outcome": outcome,
              "status": status, "recorded": won}  # fmt: skip
    log.info("event delivery attempted", extra={"fields": fields})


async def attempt(settings: Settings, pending: PendingDelivery) -> tuple[bool, str]:
    """POST the signed event once: whether the subscriber took it, and a summary of what happened.

    The summary never holds the subscriber's answer (only its status) nor the secret.
    """
    try:
        secret = read_secret(pending.secret_ref, secrets_dir=settings.secrets_dir)
    except SecretError as exc:
        return False, f"not sent: {exc}"
    body = body_of(msgspec.convert(pending.envelope, Envelope))
    headers = signed_headers(secret, int(time.time()), body)
    guard = OutboundGuard(settings.outbound_allowed_hosts)
    try:
        async with guard.client(pending.url, timeout=httpx.Timeout(settings.event_timeout_seconds)) as client:
            response = await client.post(pending.url, content=body, headers=headers)
    except OutboundRefused as exc:
        return False, f"not sent: url {exc}"
    except httpx.TimeoutException:
        return False, "no answer in time"
    except httpx.HTTPError:
        return False, "could not connect"
    return delivered(response.status_code), f"HTTP {response.status_code}"


HANDLERS: dict[str, JobHandler] = {DELIVER_JOB: deliver}
