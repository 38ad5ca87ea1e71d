"""Webhook signatures and status changes, checked against the contract's HMAC test vector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.integrations.webhooks import WebhookError, signature_of, status_change, verify_signature

pytestmark = pytest.mark.unit

CONTRACT = Path(__file__).resolve().parents[2] / "jira_standin" / "contract"


def test_a_body_signed_with_the_secret_verifies_and_any_change_does_not():
    body = b'{"issue": {"key": "PROJ-1"}}'
    verify_signature("s3cret", body, signature_of("s3cret", body))
    with pytest.raises(WebhookError):
        verify_signature("s3cret", body + b" ", signature_of("s3cret", body))
    with pytest.raises(WebhookError):
        verify_signature("other", body, signature_of("s3cret", body))
    with pytest.raises(WebhookError):
        verify_signature("s3cret", body, None)


def test_the_status_category_decides_never_the_status_name():
    body = json.dumps(
        {"issue": {"key": "PROJ-7", "fields": {"status": {"name": "处理中", "statusCategory": {"key": "indeterminate"}}}}}
    ).encode()
    change = status_change(body)
    assert change is not None and (change.issue_key, change.category) == ("PROJ-7", "indeterminate")
    assert status_change(b'{"webhookEvent": "comment_created"}') is None
    with pytest.raises(WebhookError):
        status_change(b"not json")


def test_the_contracts_example_delivery_reads_as_a_status_change():
    bodies = list(CONTRACT.rglob("*status_change*body*.json"))
    assert bodies, "the contract's example delivery is vendored with the stand-in"
    change = status_change(bodies[0].read_bytes())
    assert change is not None and change.category in ("new", "indeterminate", "done")


def test_the_contracts_hmac_test_vector_verifies():
    body = (CONTRACT / "webhook.jira_issue_updated.status_change.body.json").read_bytes()
    headers = (CONTRACT / "webhook.jira_issue_updated.status_change.headers.txt").read_text()
    signature = next(line.split(": ", 1)[1] for line in headers.splitlines() if line.startswith("X-Hub-Signature"))
    verify_signature("It's a Secret to Everybody", body, signature)
