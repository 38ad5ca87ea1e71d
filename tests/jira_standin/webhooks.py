"""Jira webhook deliveries to POST at our service, built and signed as Jira Cloud does (CONTRACT.md §5).

An admin webhook with a secret signs the raw body: `X-Hub-Signature: sha256=<hex HMAC-SHA256>`;
`X-Atlassian-Webhook-Identifier` is unique per delivery and unchanged across retries, which add
`X-Atlassian-Webhook-Retry: <n>`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

_changelog_ids = itertools.count(10000)

ACTOR = {
    "accountId": "5b10ac8d82e05b22cc7d4ef5",
    "displayName": "Someone in Jira",
    "active": True,
    "timeZone": "Etc/UTC",
    "accountType": "atlassian",
}


@dataclass(frozen=True)
class WebhookDelivery:
    body: bytes  # the exact bytes that were signed: send these, not a re-encoding
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)

    def retried(self, attempt: int = 1) -> WebhookDelivery:
        """The same delivery as Jira re-sends it: same body and identifier, plus the retry count."""
        return WebhookDelivery(self.body, {**self.headers, "X-Atlassian-Webhook-Retry": str(attempt)})


def sign(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature` value for `body` under `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def status_change_delivery(
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    secret: str | None,
    identifier: str | None = None,
) -> WebhookDelivery:
    """A `jira:issue_updated` delivery for an issue whose status changed from `before` to `after`.

    `before` and `after` are issues as `GET /rest/api/3/issue/{key}` shows them (see
    `JiraStandin.set_status`). The payload carries the state *after* the change and a changelog
    item for the status, as in the contract's captured example.
    """
    old, new = before["fields"]["status"], after["fields"]["status"]
    issue = json.loads(json.dumps(after).replace("/rest/api/3/", "/rest/api/2/"))  # deliveries link to v2
    issue.pop("expand", None)
    payload = {
        "timestamp": int(time.time() * 1000),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": ACTOR,
        "issue": issue,
        "changelog": {
            "id": str(next(_changelog_ids)),
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "from": old["id"],
                    "fromString": old["name"],
                    "to": new["id"],
                    "toString": new["name"],
                }
            ],
        },
    }
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json; charset=UTF-8",
        "X-Atlassian-Webhook-Identifier": identifier or str(uuid.uuid4().int % 10**13),
        "X-Atlassian-Webhook-Flow": "Primary",
    }
    if secret is not None:
        headers["X-Hub-Signature"] = sign(body, secret)
    return WebhookDelivery(body, headers)
