"""Only delivered ideas teach the estimates: the check before actuals or KPI measurements are taken.

Delivery status lives in the integrations service (its link table, kept by Jira webhooks and
refreshes), so scoring asks it (integrations_client.py) rather than read its schema. An idea
tracked in Jira (a planned issue of one of the portfolio's connections) is delivered when every
one of its issues is in the status category `done`; until then its figures are refused with a
409 naming the issue and its category, and nothing is written. An idea never pushed to Jira
may still record figures (teams without Jira): they are marked `delivered_via = "manual"`, those
of a Jira-delivered idea `"jira"`, with the issue keys.
"""

from __future__ import annotations

from typing import Literal, Protocol
from uuid import UUID

import msgspec

from services.kit.problems import AppError, FieldProblem

DeliveredVia = Literal["jira", "manual"]


class IssueAsTracked(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    issue_key: str
    status_category: str


class JiraTracking(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """What the integrations service says of an idea (`GET .../ideas/{ref}/delivery`)."""

    ref: str
    tracked: bool
    delivered: bool
    status_category: str | None = None
    issues: list[IssueAsTracked] = msgspec.field(default_factory=list)


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """How the idea's delivery is known, recorded with its figures."""

    via: DeliveredVia
    jira_issues: list[str] = msgspec.field(default_factory=list)


class NotDelivered(AppError):
    slug, title, status = "idea-not-delivered", "The idea is not delivered yet", 409


class Tracker(Protocol):
    """Where an idea's Jira tracking is read from, on behalf of the caller."""

    async def tracking(self, portfolio_id: UUID, ref: str) -> JiraTracking: ...


class WithoutJira:
    """A tracker for a portfolio that has no Jira connection, so none of its ideas is tracked:
    the demo seed's (it runs before any service, and its portfolio is never pushed)."""

    async def tracking(self, portfolio_id: UUID, ref: str) -> JiraTracking:
        return JiraTracking(ref=ref, tracked=False, delivered=False)


def delivery_of(tracking: JiraTracking) -> Delivery:
    """How the idea was delivered, or NotDelivered when Jira tracks it and it is not done yet."""
    if not tracking.tracked:
        return Delivery(via="manual")
    if not tracking.delivered:
        pending = [issue for issue in tracking.issues if issue.status_category != "done"] or tracking.issues
        first = (
            pending[0] if pending else IssueAsTracked(issue_key="?", status_category=tracking.status_category or "?")
        )
        message = (
            f"{tracking.ref} is tracked in Jira as {first.issue_key}, whose status category is "
            f"{first.status_category!r}, not 'done'"
        )
        raise NotDelivered(
            f"{message}: record its actuals and KPI measurements once it is delivered. Nothing was written.",
            errors=[FieldProblem(field="ref", message=message)],
            extensions={
                "ref": tracking.ref,
                "issueKey": first.issue_key,
                "statusCategory": first.status_category,
                "issues": [msgspec.to_builtins(issue) for issue in tracking.issues],
            },
        )
    return Delivery(via="jira", jira_issues=[issue.issue_key for issue in tracking.issues])


async def confirm_delivered(tracker: Tracker, portfolio_id: UUID, ref: str) -> Delivery:
    """Ask the tracker about the idea and apply `delivery_of`."""
    return delivery_of(await tracker.tracking(portfolio_id, ref))
