"""HTTP controllers of event subscriptions: who is told when a plan waits for a decision.

The events machinery is the kit's (services/kit/events); the roadmap serves its subscriptions
because its events (plans submitted, phases decided, plans approved) are the ones people wait for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from services.kit.db import Conn
from services.kit.events import service
from services.kit.events.repository import DeliveryRow, SubscriptionRow
from services.kit.events.service import SubscriberAccess, SubscriptionDraft
from services.kit.params import Page, PageSize, caller_of

Subscribers = NamedDependency[SubscriberAccess]
PortfolioQuery = Annotated[
    UUID, QueryParameter(name="portfolioId", description="the portfolio whose subscriptions to list")
]


class SubscriptionIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Where to send which events of a portfolio, and the secret reference they are signed with."""

    portfolio_id: UUID
    url: Annotated[str, Meta(min_length=1, max_length=2000, description="https:// to a public address")]
    events: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(min_length=1, max_length=20)]
    secret_ref: Annotated[
        str, Meta(min_length=1, max_length=1000, description="env:ROADMAP_SECRET_<NAME> or file:<secrets dir>/<name>")
    ]


class SubscriptionOut(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    portfolio_id: UUID
    url: str
    events: list[str]
    secret_ref: str
    created_by: str
    created_at: datetime


class DeliveryOut(msgspec.Struct, rename="camel", kw_only=True):
    """One event offered to the subscriber: `pending` (more attempts to come), `delivered` or `failed`."""

    id: UUID
    event_id: UUID
    event_type: str
    status: str
    attempts: int
    last_attempt_at: datetime | None
    last_outcome: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryPage(msgspec.Struct, rename="camel", kw_only=True):
    items: list[DeliveryOut]
    total: int
    page: int
    page_size: int


class SubscriptionController(Controller):
    path = "/subscriptions"
    tags = ["events"]

    @post("", operation_id="createSubscription")
    async def create(
        self, request: Request, conn: Conn, subscribers: Subscribers, data: JSONBody[SubscriptionIn]
    ) -> SubscriptionOut:
        """Subscribe a URL to events of a portfolio (CloudEvents 1.0, signed: docs/api.md "Events").
        Needs the role programme_manager on the portfolio. The URL must be https to a public
        address (or one the operator allowed), the secret a reference in the operator's space."""
        draft = SubscriptionDraft(
            portfolio_id=data.portfolio_id, url=data.url, events=data.events, secret_ref=data.secret_ref
        )
        return subscription_out(await service.create_subscription(conn, subscribers, draft, caller=caller_of(request)))

    @get("", operation_id="listSubscriptions")
    async def list(self, request: Request, conn: Conn, portfolio_id: PortfolioQuery) -> list[SubscriptionOut]:
        """The event subscriptions of a portfolio, oldest first."""
        rows = await service.list_subscriptions(conn, caller_of(request), portfolio_id)
        return [subscription_out(row) for row in rows]

    @get("/{subscription_id:uuid}", operation_id="getSubscription")
    async def read(self, request: Request, conn: Conn, subscription_id: FromPath[UUID]) -> SubscriptionOut:
        """One event subscription."""
        return subscription_out(await service.require_subscription(conn, caller_of(request), subscription_id))

    @delete("/{subscription_id:uuid}", operation_id="deleteSubscription")
    async def remove(self, request: Request, conn: Conn, subscription_id: FromPath[UUID]) -> None:
        """Stop sending events to a subscriber; deliveries still waiting are dropped."""
        await service.delete_subscription(conn, caller_of(request), subscription_id)

    @get("/{subscription_id:uuid}/deliveries", operation_id="listEventDeliveries")
    async def deliveries(
        self, request: Request, conn: Conn, subscription_id: FromPath[UUID], page: Page = 1, page_size: PageSize = 50
    ) -> DeliveryPage:
        """The events offered to the subscriber, newest first: status, attempts, what the last one came to."""
        rows, total = await service.list_deliveries(
            conn, caller_of(request), subscription_id, page=page, page_size=page_size
        )
        return DeliveryPage(items=[delivery_out(row) for row in rows], total=total, page=page, page_size=page_size)


def subscription_out(row: SubscriptionRow) -> SubscriptionOut:
    return SubscriptionOut(
        id=row.id, portfolio_id=row.portfolio_id, url=row.url, events=row.event_types, secret_ref=row.secret_ref,
        created_by=row.created_by, created_at=row.created_at,
    )  # fmt: skip


def delivery_out(row: DeliveryRow) -> DeliveryOut:
    return DeliveryOut(
        id=row.id, event_id=row.event_id, event_type=row.event_type, status=row.status, attempts=row.attempts,
        last_attempt_at=row.last_attempt_at, last_outcome=row.last_outcome, next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at, created_at=row.created_at,
    )  # fmt: skip


SUBSCRIPTION_ROUTES = [SubscriptionController]
