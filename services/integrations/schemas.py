"""Request and response bodies of the integrations service (camelCase, unknown fields refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

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
    str, Meta(max_length=1100, description="env:ROADMAP_SECRET_<NAME> or file:<ROADMAP_SECRETS_DIR>/<name>; never the secret")
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


class PhaseDelivery(Output):
    phase: str
    to_do: int
    in_progress: int
    done: int
    budget_planned: float
    budget_delivered: float


class DeliveryOut(Output):
    """How far an approved plan's tickets have got, per phase, from Jira's status categories."""

    plan_id: UUID
    phases: list[PhaseDelivery]
    ideas: int
    done: int


class WebhookAck(Output):
    accepted: bool
    duplicate: bool
    applied: bool
    issue_key: str | None
    category: str | None
