"""The roadmap's jobs that record a plan's pushes to Jira in its audit trail.

Why a job fed by the outbox, not a call from integrations: integrations may not write the
roadmap's tables (each service touches its own schema), and an HTTP call from it to the
roadmap, made after its transaction commits, is lost when the call fails or the worker dies
between the two; made inside the transaction, it would hold that transaction on the roadmap.
Instead integrations emits `push.started` and `push.finished` (services/integrations/push_events.py),
and `emit` enqueues this job with the event, in the transaction that records the push
(services/kit/events/service.py, LISTENERS). The event and its job commit with the push or not
at all, and the queue runs the job at least once. The job reads the event from the outbox
and writes the entries with their `origin` (push:<id>:started, push:<id>:finished): the
unique origin makes a second run, or a second delivery of the same event, write nothing.

A job the queue gave up on (it raised, say the database was away for longer than the job
waits) is not lost either: the sweep, every ten minutes, finds push events of the last
SWEEP_DAYS, older than five minutes, whose entry is missing and records them the same way.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import asyncpg

from services.kit.events import repository as events
from services.kit.jobs import JobContext, JobHandler
from services.roadmap.plans import push_audit_repository, repository
from services.roadmap.plans.push_audit import PUSH_EVENTS, push_entries, read_push_event
from services.roadmap.plans.service import solver_label

log = logging.getLogger("roadmap.audit")

AUDIT_PUSH_JOB = "roadmap.audit_push"
SWEEP_JOB = "roadmap.audit_push_sweep"
# Events recorded per sweep: a backlog larger than this is taken over the next sweeps.
SWEEP_BATCH = 500
# How far back the sweep looks. It runs every ten minutes, so this only has to outlast an outage
# of the workers; it keeps each sweep's reading of the outbox bounded as pushes accumulate.
SWEEP_DAYS = 30
# An event younger than this is left to its own job, which normally runs within moments, so the
# sweep's warning means a job was really given up on.
SWEEP_SETTLED_SECONDS = 300.0


async def record_push_event(conn: asyncpg.Connection, event_id: UUID) -> int:
    """Write the audit entries a push event makes, those not written yet; how many it wrote.

    An event that is gone (its portfolio was deleted), from before this release, or about a
    plan that is not of the event's own portfolio writes nothing: an event can only ever add to
    the trail of a plan of the portfolio it was emitted for.
    """
    async with conn.transaction():
        event = await events.get_event(conn, event_id)
        if event is None or event.event_type not in PUSH_EVENTS:
            return 0
        data = read_push_event(event.envelope.get("data"))
        if data is None:
            return 0
        plan_id = _uuid(data.plan_id)
        plan = None if plan_id is None else await repository.get_plan(conn, plan_id)
        if plan is None or plan.portfolio_id != event.portfolio_id:
            return 0
        written = 0
        for entry in push_entries(event.event_type, data, at=datetime.fromisoformat(event.envelope["time"])):
            written += await push_audit_repository.insert_once(
                conn, plan.id, origin=entry.origin, action=entry.action, actor=entry.actor,
                actor_role=entry.actor_role, at=entry.at, input_fingerprint=plan.input_fingerprint,
                solver=solver_label(plan), detail=entry.detail,
            )  # fmt: skip
        return written


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


async def audit_push(job: JobContext) -> None:
    """Record the push event the job names in its plan's audit trail (once, however often it runs)."""
    event_id = UUID(job.payload.decode())
    written = await job.on_database("record a push in its plan's audit trail",
                                    lambda conn: record_push_event(conn, event_id))  # fmt: skip
    log.info("push audited", extra={"fields": {"event_id": str(event_id), "written": written}})


async def sweep(job: JobContext) -> None:
    """Record the push events whose audit entries are missing (a job that was given up on)."""

    async def catch_up(conn: asyncpg.Connection) -> int:
        missing = await push_audit_repository.unaudited_push_events(
            conn, PUSH_EVENTS, within_days=SWEEP_DAYS, settled_seconds=SWEEP_SETTLED_SECONDS, limit=SWEEP_BATCH
        )
        return sum([await record_push_event(conn, event_id) for event_id in missing])

    written = await job.on_database("catch up on the pushes' audit", catch_up)
    if written:
        log.warning("push audit caught up", extra={"fields": {"written": written}})


HANDLERS: dict[str, JobHandler] = {AUDIT_PUSH_JOB: audit_push, SWEEP_JOB: sweep}
SCHEDULES: dict[str, str] = {SWEEP_JOB: "*/10 * * * *"}
