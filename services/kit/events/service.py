"""Use cases of events: emitting one, and the subscriptions of a portfolio.

`emit` is how any service tells subscribers that something happened. Call it on the request's
(or job's) connection, inside the transaction that makes the change it tells about: the event,
its deliveries and their jobs then commit with that change or not at all, so no event is sent
about something that did not happen, and none is lost for something that did.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpcore
import msgspec

from services.kit import jobs
from services.kit.access import service as access
from services.kit.access.rights import MANAGE
from services.kit.auth import Caller
from services.kit.events import repository
from services.kit.events.delivery import DELIVER_JOB
from services.kit.events.envelope import EVENT_TYPES, envelope
from services.kit.events.repository import DeliveryRow, SubscriptionRow
from services.kit.outbound import OutboundGuard, OutboundRefused, Resolver, system_resolver
from services.kit.problems import Conflict, FieldProblem, InvalidInput, NotFound
from services.kit.secrets import SecretError, check_reference, read_secret
from services.kit.settings import Settings

# A portfolio's subscribers are a few bridges and front-ends, not a fan-out service.
MAX_SUBSCRIPTIONS = 20

# The services that act on an event themselves: event type -> the job each runs for it, with the
# event's id as payload. The job is enqueued with the event, in the transaction of the change, so
# it runs (at least once) exactly when the change committed: an in-house listener is as reliable
# as the outbox, and loses nothing to a lost HTTP call. Its handler reads the event from the
# outbox and makes its effect once (keyed by what the event is about, not by the job).
# Named here, not imported, so the kit depends on no service; services/worker.py registers the
# handlers, and tests/unit/test_event_listeners.py checks that each job named here has one.
LISTENERS: dict[str, tuple[str, ...]] = {
    # The plan's audit trail records its pushes (services/roadmap/plans/push_audit_jobs.py).
    "push.started": ("roadmap.audit_push",),
    "push.finished": ("roadmap.audit_push",),
}


async def emit(
    conn: asyncpg.Connection,
    event_type: str,
    *,
    portfolio_id: UUID,
    subject: str | None,
    data: dict[str, Any],
    at: datetime | None = None,
) -> UUID:
    """Record an event of the portfolio and queue its delivery to each subscriber; its id.

    `event_type` is one of envelope.EVENT_TYPES; `subject` says what it is about inside the
    portfolio (`plans/<id>`); `data` is the event's JSON body. For `push.started` and
    `push.finished`, give `subject="pushes/<push id>"` and the data services/integrations/push_events.py
    builds. The in-house LISTENERS of `event_type` get their job too.
    """
    event_id = uuid4()
    event = envelope(event_type, event_id=event_id, portfolio_id=portfolio_id, subject=subject,
                     at=at or datetime.now(UTC), data=data)  # fmt: skip
    delivery_ids = await repository.insert_event(
        conn, event_id=event_id, portfolio_id=portfolio_id, event_type=event_type, envelope=msgspec.to_builtins(event)
    )
    for delivery_id in delivery_ids:
        await jobs.enqueue(conn, DELIVER_JOB, str(delivery_id).encode())
    for entrypoint in LISTENERS.get(event_type, ()):
        await jobs.enqueue(conn, entrypoint, str(event_id).encode())
    return event_id


class SubscriberAccess:
    """Where subscribers may be, and the secrets they sign with: the same rules as Jira connections."""

    def __init__(self, settings: Settings, *, resolver: Resolver = system_resolver) -> None:
        self.secrets_dir: Path = settings.secrets_dir
        self.guard = OutboundGuard(settings.outbound_allowed_hosts, resolver=resolver)


class SubscriptionDraft(msgspec.Struct, frozen=True, kw_only=True):
    portfolio_id: UUID
    url: str
    events: list[str]
    secret_ref: str


async def create_subscription(
    conn: asyncpg.Connection, subscribers: SubscriberAccess, draft: SubscriptionDraft, *, caller: Caller
) -> SubscriptionRow:
    """Check the caller's rights, then the subscription (every problem at once, 422), then record it."""
    try:
        await access.require_access(conn, caller, draft.portfolio_id, MANAGE)
    except NotFound:
        problem = FieldProblem(field="portfolioId", message="no such portfolio, or you are not a member of it")
        raise NotFound(f"There is no portfolio {draft.portfolio_id}.", errors=[problem]) from None
    problems = _event_problems(draft.events) + _secret_problems(subscribers, draft.secret_ref)
    problems += await _url_problems(subscribers, draft.url)
    if problems:
        raise InvalidInput(
            "The subscription cannot be used: " + "; ".join(p.message for p in problems), errors=problems
        )
    if await repository.count_subscriptions(conn, draft.portfolio_id) >= MAX_SUBSCRIPTIONS:
        raise Conflict(f"A portfolio has at most {MAX_SUBSCRIPTIONS} subscriptions; delete one first.")
    return await repository.insert_subscription(
        conn,
        portfolio_id=draft.portfolio_id,
        url=draft.url,
        event_types=list(dict.fromkeys(draft.events)),
        secret_ref=draft.secret_ref,
        created_by=caller.subject,
    )


def _event_problems(events: list[str]) -> list[FieldProblem]:
    known = ", ".join(EVENT_TYPES)
    return [
        FieldProblem(
            field=f"events[{index}]", message=f"events[{index}]: {name!r} is not an event; the events are {known}"
        )
        for index, name in enumerate(events)
        if name not in EVENT_TYPES
    ]


def _secret_problems(subscribers: SubscriberAccess, reference: str) -> list[FieldProblem]:
    try:
        check_reference(reference, secrets_dir=subscribers.secrets_dir)
        read_secret(reference, secrets_dir=subscribers.secrets_dir)
    except SecretError as exc:
        return [FieldProblem(field="secretRef", message=f"secretRef: {exc}")]
    return []


async def _url_problems(subscribers: SubscriberAccess, url: str) -> list[FieldProblem]:
    try:
        await subscribers.guard.check(url)
    except OutboundRefused as exc:
        return [FieldProblem(field="url", message=f"url {exc}")]
    except (httpcore.NetworkError, httpcore.TimeoutException):
        return [FieldProblem(field="url", message="url does not resolve to an address now")]
    return []


async def require_subscription(conn: asyncpg.Connection, caller: Caller, subscription_id: UUID) -> SubscriptionRow:
    """A subscription of a portfolio the caller manages."""
    row = await repository.get_subscription(conn, subscription_id)
    missing = f"There is no subscription {subscription_id}."
    if row is None:
        raise NotFound(missing)
    await access.require_access(conn, caller, row.portfolio_id, MANAGE, missing=missing)
    return row


async def list_subscriptions(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID) -> list[SubscriptionRow]:
    await access.require_access(conn, caller, portfolio_id, MANAGE)
    return await repository.list_subscriptions(conn, portfolio_id)


async def delete_subscription(conn: asyncpg.Connection, caller: Caller, subscription_id: UUID) -> None:
    """Delete a subscription; deliveries not yet made are dropped with it."""
    await require_subscription(conn, caller, subscription_id)
    await repository.delete_subscription(conn, subscription_id)


async def list_deliveries(
    conn: asyncpg.Connection, caller: Caller, subscription_id: UUID, *, page: int, page_size: int
) -> tuple[list[DeliveryRow], int]:
    await require_subscription(conn, caller, subscription_id)
    return await repository.deliveries(conn, subscription_id, limit=page_size, offset=(page - 1) * page_size)
