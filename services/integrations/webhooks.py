"""Jira webhook deliveries: verify the signature, then read what changed. Pure, no I/O.

Jira signs an admin webhook's body with the secret set on it: `X-Hub-Signature:
sha256=<hex HMAC-SHA256(secret, raw body)>`. The signature is checked over the raw bytes,
with a constant-time comparison, before the body is even parsed.

A signed body is still read as untrusted input: every value we use has a type and a bound,
and its `timestamp` (when the event happened, in milliseconds) must be recent, so a delivery
captured once cannot be replayed later, and events can be applied in the order they happened.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from services.kit.patterns import whole

# Jira's status categories by key; names are per workflow and localised, so never used.
CATEGORIES = {"new": "new", "indeterminate": "indeterminate", "done": "done"}

MAX_IDENTIFIER = 128
_IDENTIFIER = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_IDENTIFIER}}}")

IssueKey = Annotated[str, Meta(pattern=whole(r"[A-Z][A-Z0-9_]*-[0-9]{1,18}"), max_length=64)]
ShortText = Annotated[str, Meta(max_length=255)]


class WebhookError(ValueError):
    """A delivery that is not signed right, or does not say what changed in a form we can read.

    `field` names the part of the delivery at fault (`body.issue.key`, `header...`).
    """

    def __init__(self, message: str, *, field: str = "body") -> None:
        super().__init__(message)
        self.field = field


class StatusChange(msgspec.Struct, frozen=True):
    """An issue's status after a delivery: its key, status name and category, and when the event happened."""

    issue_key: str
    status_name: str
    category: str
    happened_at: datetime


class _Category(msgspec.Struct):
    key: ShortText = ""


class _Status(msgspec.Struct):
    name: ShortText = ""
    statusCategory: _Category | None = None


class _Fields(msgspec.Struct):
    status: _Status | None = None


class _Issue(msgspec.Struct):
    key: IssueKey
    fields: _Fields | None = None


class _Delivery(msgspec.Struct):
    """The parts of a delivery we read; the rest (user, changelog, ...) is left unread."""

    timestamp: int
    issue: _Issue | None = None


def signature_of(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature` value Jira sends for `body` signed with `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> None:
    """Raise WebhookError unless `header` is the body's signature with `secret`."""
    if not header or not header.startswith("sha256="):
        raise WebhookError("the delivery has no X-Hub-Signature: sha256=... header", field="header.X-Hub-Signature")
    if not hmac.compare_digest(signature_of(secret, body).encode(), header.strip().encode("utf-8", "replace")):
        raise WebhookError("the signature does not match the body", field="header.X-Hub-Signature")


def check_identifier(identifier: str | None) -> str:
    """The delivery's `X-Atlassian-Webhook-Identifier`, if it is one Jira could have sent."""
    if not identifier:
        raise WebhookError(
            "a delivery carries X-Atlassian-Webhook-Identifier", field="header.X-Atlassian-Webhook-Identifier"
        )
    if not _IDENTIFIER.fullmatch(identifier):
        raise WebhookError(
            f"must be 1 to {MAX_IDENTIFIER} letters, digits or ._:-", field="header.X-Atlassian-Webhook-Identifier"
        )
    return identifier


def status_change(body: bytes, *, now: datetime, max_age_seconds: float) -> StatusChange | None:
    """The status an issue has after this delivery, or None when the delivery is about no issue.

    Raises WebhookError when the body is not what Jira sends, or when its event happened more
    than `max_age_seconds` before (or after) `now`: a replay, or a retry that came too late.
    """
    try:
        delivery = msgspec.json.decode(body, type=_Delivery)
    except msgspec.ValidationError as exc:
        text = str(exc)
        message, _, path = text.partition(" - at `$")
        raise WebhookError(message, field="body" + path.rstrip("`")) from None
    except msgspec.DecodeError:
        raise WebhookError("the body is not JSON") from None
    except UnicodeDecodeError:  # msgspec reports bad UTF-8 inside a string this way, not as a DecodeError
        raise WebhookError("the body is not UTF-8") from None
    except RecursionError:  # msgspec skips unknown fields recursively: a deep one exhausts the stack
        raise WebhookError("the body is nested too deeply to be a Jira delivery") from None
    happened_at = _event_time(delivery.timestamp)
    age = (now - happened_at).total_seconds()
    if abs(age) > max_age_seconds:
        when = "old" if age > 0 else "in the future"
        raise WebhookError(
            f"the event is {abs(age):.0f} s {when}; deliveries are taken within {max_age_seconds:g} s of their event",
            field="body.timestamp",
        )
    issue = delivery.issue
    if issue is None:
        return None
    status = (issue.fields.status if issue.fields else None) or _Status()
    category_key = status.statusCategory.key if status.statusCategory else ""
    return StatusChange(
        issue_key=issue.key,
        status_name=status.name,
        category=CATEGORIES.get(category_key, "unknown"),
        happened_at=happened_at,
    )


def _event_time(timestamp: int) -> datetime:
    try:
        return datetime.fromtimestamp(timestamp / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise WebhookError("is not a time in milliseconds", field="body.timestamp") from None
