"""Events as subscribers receive them: CloudEvents 1.0 envelopes, their signature, retry delays.

Pure: no I/O. docs/api.md ("Events") is the subscriber's side of this module.

An event is sent in CloudEvents' structured mode: the body is the whole envelope as JSON
(`Content-Type: application/cloudevents+json`), its `id` the same on every delivery and retry
of that event, so a subscriber that keeps the ids it has handled takes each event once. The
body is signed with the subscription's secret, over the send time and the body, so a
subscriber can check that we sent it and that it is recent:

    Roadmap-Timestamp: <unix seconds when this attempt was sent>
    Roadmap-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

# The events a subscription may ask for, and what each tells.
EVENT_TYPES: dict[str, str] = {
    "plan.submitted": "a plan was sent to the leaders and waits for their decisions",
    "phase.decided": "a leader approved a phase of a plan or asked for changes to it",
    "plan.approved": "every phase of a plan is approved: the plan is the portfolio's roadmap",
    "push.started": "a push of an approved plan to Jira was asked for",
    "push.finished": "a push of an approved plan to Jira finished (or failed)",
    "ideas.stale": "ideas' estimates became older than the portfolio's review cadence",
}
# CloudEvents asks for a type prefixed by a reverse-DNS name, so a bridge that takes events from
# many producers can tell ours apart: `plan.submitted` is sent as `dev.roadmap-backend.plan.submitted`.
TYPE_PREFIX = "dev.roadmap-backend."
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
TIMESTAMP_HEADER = "Roadmap-Timestamp"
SIGNATURE_HEADER = "Roadmap-Signature"


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """A CloudEvents 1.0 event in its JSON form (the attribute names are the spec's, lower case)."""

    specversion: str = "1.0"
    id: str
    source: str
    type: str
    subject: str | None = None
    time: str
    datacontenttype: str = "application/json"
    data: dict[str, Any]


def envelope(
    event_type: str, *, event_id: UUID, portfolio_id: UUID, subject: str | None, at: datetime, data: dict[str, Any]
) -> Envelope:
    """The envelope of one event of a portfolio; ValueError for an event type we do not emit."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    if at.tzinfo is None:
        raise ValueError("an event's time is timezone-aware")
    return Envelope(
        id=str(event_id),
        source=f"/portfolios/{portfolio_id}",
        type=TYPE_PREFIX + event_type,
        subject=subject,
        time=at.isoformat().replace("+00:00", "Z"),
        data=data,
    )


def body_of(event: Envelope | dict[str, Any]) -> bytes:
    """The bytes sent: the envelope as compact JSON."""
    return msgspec.json.encode(event)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Roadmap-Signature` value of a body sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of one attempt."""
    return {
        "Content-Type": CONTENT_TYPE,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a subscriber does: the signature matches and the timestamp is within `tolerance` of now."""
    try:
        timestamp = int(headers[TIMESTAMP_HEADER])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(headers.get(SIGNATURE_HEADER, ""), signature(secret, timestamp, body))


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How often, and how long apart, an event is offered to a subscriber that does not take it."""

    max_attempts: int
    first_delay_seconds: float
    max_delay_seconds: float

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or not 0 < self.first_delay_seconds <= self.max_delay_seconds:
            raise ValueError("a retry policy makes at least one attempt, its first delay positive and at most its cap")

    def delay_after(self, attempts: int) -> float | None:
        """Seconds to wait after `attempts` failed attempts, doubling to the cap; None: give up."""
        if attempts >= self.max_attempts:
            return None
        return min(self.first_delay_seconds * 2 ** (attempts - 1), self.max_delay_seconds)


def delivered(status_code: int) -> bool:
    """Whether an answer means the subscriber took the event: any 2xx.

    A redirect is not followed (outbound rules) and counts as not taken, as does every 4xx: a
    subscriber that refused an event because it was down or misconfigured gets it again.
    """
    return 200 <= status_code < 300
