"""Jira webhook deliveries: verify the signature, read the status change. Pure, no I/O.

Jira signs an admin webhook's body with the secret set on it: `X-Hub-Signature:
sha256=<hex HMAC-SHA256(secret, raw body)>`. The signature is checked over the raw bytes,
with a constant-time comparison, before the body is even parsed.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import msgspec

# Jira's status categories by key; names are per workflow and localised, so never used.
CATEGORIES = {"new": "new", "indeterminate": "indeterminate", "done": "done"}


class WebhookError(ValueError):
    """A delivery that is not signed right or does not say what changed."""


class StatusChange(msgspec.Struct, frozen=True):
    """An issue's status after a delivery: its key, status name and category."""

    issue_key: str
    status_name: str
    category: str


def signature_of(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature` value Jira sends for `body` signed with `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> None:
    """Raise WebhookError unless `header` is the body's signature with `secret`."""
    if not header or not header.startswith("sha256="):
        raise WebhookError("the delivery has no X-Hub-Signature: sha256=... header")
    if not hmac.compare_digest(signature_of(secret, body), header.strip()):
        raise WebhookError("the signature does not match the body")


def status_change(body: bytes) -> StatusChange | None:
    """The status an issue has after this delivery, or None when the delivery is about no issue."""
    try:
        payload: dict[str, Any] = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise WebhookError("the body is not JSON") from None
    issue = payload.get("issue") if isinstance(payload, dict) else None
    if not isinstance(issue, dict) or "key" not in issue:
        return None
    status = (issue.get("fields") or {}).get("status") or {}
    category_key = (status.get("statusCategory") or {}).get("key", "")
    return StatusChange(
        issue_key=str(issue["key"]),
        status_name=str(status.get("name", "")),
        category=CATEGORIES.get(category_key, "unknown"),
    )
