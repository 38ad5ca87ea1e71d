"""A plan's pushes to Jira as its audit trail shows them: pure, from the integrations' push events.

Integrations owns pushes and the roadmap owns the audit trail, and neither writes the other's
tables. Integrations tells of each push through the events outbox (`push.started` when it is
asked for, `push.finished` with its final state and counts, services/integrations/push_events.py);
the roadmap's job turns each event into audit entries (push_audit_jobs.py). This module says
which entries: what they record, who the actor is, and the `origin` that names each entry once,
so an event handled twice (the queue delivers at least once) still makes one entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

PUSH_EVENTS = ("push.started", "push.finished")
# Pushes started before the release that records the role: the audit cannot say which it was.
ROLE_NOT_RECORDED = "not recorded"


class PushEventData(msgspec.Struct, frozen=True, rename="camel"):
    """What the audit takes from a push event's `data` (other fields are ignored)."""

    push_id: str
    plan_id: str
    connection_id: str
    started_by: str
    started_at: datetime
    link: str
    started_by_role: str | None = None
    status: str | None = None
    counts: dict[str, int] | None = None
    cancelled_by: str | None = None


class PushAuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One audit entry about a push: `action` is `push_started` or `push_finished`."""

    action: str
    origin: str
    actor: str
    actor_role: str
    at: datetime
    detail: dict[str, Any]


def push_origin(push_id: str, what: str) -> str:
    """The name of the one audit entry about a push's `what` (`started`, `finished`).

    push_audit_repository.unaudited_push_events builds the same names in SQL.
    """
    return f"push:{push_id}:{what}"


def read_push_event(data: Any) -> PushEventData | None:
    """The event's data, or None when it lacks what the audit names (events from before release 0020)."""
    try:
        return msgspec.convert(data, PushEventData)
    except msgspec.ValidationError:
        return None


def push_entries(event_type: str, event: PushEventData, *, at: datetime) -> list[PushAuditEntry]:
    """The audit entries an event of a push makes, in the order they happened; `at` is the event's time.

    A push's start is an entry of its own (who asked, with which role); its end names the same
    actor, the push acting on their behalf, with the final state and the push record's counts.
    `push.finished` also carries the start, so a trail whose `push.started` job has not run (or
    ran late) still shows the start before the end; the origin keeps it to one entry either way.
    """
    if event_type not in PUSH_EVENTS:
        raise ValueError(f"{event_type!r} is not a push event")
    about = {"pushId": event.push_id, "connectionId": event.connection_id, "link": event.link}
    actor, role = event.started_by, event.started_by_role or ROLE_NOT_RECORDED
    started = PushAuditEntry(action="push_started", origin=push_origin(event.push_id, "started"), actor=actor,
                             actor_role=role, at=event.started_at, detail=about)  # fmt: skip
    if event_type == "push.started" or event.status is None:
        return [started]
    outcome = {"status": event.status, "counts": dict(event.counts or {}), "startedBy": actor}
    if event.cancelled_by is not None:
        outcome["cancelledBy"] = event.cancelled_by
    finished = PushAuditEntry(action="push_finished", origin=push_origin(event.push_id, "finished"), actor=actor,
                              actor_role=role, at=at, detail={**about, **outcome})  # fmt: skip
    return [started, finished]
