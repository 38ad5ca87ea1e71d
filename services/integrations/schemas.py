"""Request and response bodies of the integrations service (camelCase, unknown fields refused)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Annotated, Any, Literal, cast
from uuid import UUID

import msgspec
from msgspec import Meta

from services.integrations.delivery_view import IdeaDelivery, PhaseDelivery
from services.integrations.idea_status import IdeaStatus
from services.integrations.push_plan import ACTIONS, Operation, outcome_counts
from services.integrations.push_repository import PushRow
from services.kit.patterns import whole

# The form only; where it may lead (https, public addresses) is the outbound guard's to check.
SiteUrl = Annotated[
    str,
    Meta(
        pattern=whole(r"https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d+)?/?"),
        max_length=200,
        description="https:// to a public address, or an address ROADMAP_OUTBOUND_ALLOWED_HOSTS names",
    ),
]
ProjectKey = Annotated[str, Meta(pattern=whole(r"[A-Z][A-Z0-9_]{1,9}"))]
Email = Annotated[str, Meta(pattern=whole(r"[^@\s]+@[^@\s]+"), max_length=200)]
SecretRef = Annotated[
    str,
    Meta(
        max_length=1100, description="env:ROADMAP_SECRET_<NAME> or file:<ROADMAP_SECRETS_DIR>/<name>; never the secret"
    ),
]


class Input(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies."""


class Output(msgspec.Struct, rename="camel", kw_only=True):
    """Base of response bodies."""


class ConnectionIn(Input):
    portfolio_id: UUID
    site_url: SiteUrl
    project_key: ProjectKey
    account_email: Email
    api_token_ref: SecretRef
    webhook_secret_ref: SecretRef | None = None
    mapping: dict[str, Any] = msgspec.field(default_factory=dict)


class ConnectionPatch(Input):
    account_email: Email | msgspec.UnsetType = msgspec.UNSET
    api_token_ref: SecretRef | msgspec.UnsetType = msgspec.UNSET
    webhook_secret_ref: SecretRef | None | msgspec.UnsetType = msgspec.UNSET
    mapping: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class ConnectionOut(Output):
    """A connection as the API shows it: where its secrets are read from, never the secrets."""

    id: UUID
    portfolio_id: UUID
    site_url: str
    project_key: str
    account_email: str
    api_token_ref: str
    webhook_secret_ref: str | None
    webhook_url: str
    mapping: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime


class PushIn(Input):
    plan_id: UUID


PushStatus = Literal["queued", "running", "waiting", "succeeded", "partial", "failed", "cancelled"]


class PushOut(Output):
    """A push. While Jira is unavailable, or another push to the project is under way, it is
    `waiting` until `waitingUntil`, then tries again. It ends `succeeded`, `partial` (Jira
    refused some ideas, each in `errors`, or links wait for their ends), `failed` or `cancelled`.

    `counts` say what Jira did (from each operation's `outcome`): issues `created`, `found`
    already in Jira, `updated`, `unchanged`, `markedUnplanned`; links `linked` and `linksFound`;
    `failed`; `toDo`. `planned` counts the operations by action, as a dry run shows them.
    `waitingSince` and `lastError` describe the Jira outage it is waiting out (null when none),
    and stay on a push that failed because the outage lasted too long. `unmappedOwners` lists the
    idea owners whose e-mail maps to no single Jira account (their issues stay unassigned): each
    with `subject`, `name`, `email`, `ideas` and `reason`; they never fail a push.
    """

    id: UUID
    connection_id: UUID
    plan_id: UUID
    status: PushStatus
    progress: dict[str, Any]
    counts: dict[str, int]
    planned: dict[str, int]
    operations: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    attempts: int
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    waiting_since: datetime | None
    waiting_until: datetime | None
    last_error: str | None
    cancel_requested_by: str | None
    cancel_requested_at: datetime | None
    unmapped_owners: list[dict[str, Any]] = msgspec.field(default_factory=list)


def push_out(row: PushRow) -> PushOut:
    planned = Counter(op["action"] for op in row.operations)
    return PushOut(
        id=row.id,
        connection_id=row.connection_id,
        plan_id=row.plan_id,
        status=cast(PushStatus, row.status),
        progress=row.progress,
        counts=outcome_counts(msgspec.convert(row.operations, list[Operation])),
        planned={action: planned.get(action, 0) for action in ACTIONS},
        operations=row.operations,
        errors=row.errors,
        attempts=row.attempts,
        created_by=row.created_by,
        created_at=row.created_at,
        finished_at=row.finished_at,
        waiting_since=row.waiting_since,
        waiting_until=row.waiting_until,
        last_error=row.last_error,
        cancel_requested_by=row.cancel_requested_by,
        cancel_requested_at=row.cancel_requested_at,
        unmapped_owners=row.unmapped_owners,
    )


class DryRunOut(Output):
    """What a push would do now, Jira read: `counts` by action, and each operation."""

    counts: dict[str, int]
    operations: list[Operation]


class LastPush(Output):
    id: UUID
    status: PushStatus
    counts: dict[str, int]


class Refreshed(Output):
    """What a delivery refresh read from Jira: issues asked about, found, and whose status category changed."""

    issues: int
    found: int
    changed: int


class DeliveryOut(Output):
    """How far an approved plan's tickets have got, from Jira's status categories: per phase
    (with its end date and how many of its ideas are late) and per idea (`ideaRows`: ref, title,
    owner, phase, Jira key, status category, due date, late), and the plan's last push with the
    same counts its record shows. An idea is late when its issue is not done and its phase ended
    before `asOf` (today)."""

    plan_id: UUID
    phases: list[PhaseDelivery]
    ideas: int
    done: int
    late: int
    as_of: date
    idea_rows: list[IdeaDelivery]
    last_push: LastPush | None = None
    refreshed: Refreshed | None = None


class WebhookAck(Output):
    accepted: bool
    duplicate: bool
    applied: bool
    issue_key: str | None
    category: str | None


class IdeasDeliveryOut(Output):
    """The portfolio's ideas tracked in Jira, by ref: each one's planned issues, the least advanced
    status category among them, and whether it is delivered (every issue `done`)."""

    portfolio_id: UUID
    ideas: list[IdeaStatus]
