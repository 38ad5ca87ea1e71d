"""Webhook signatures and status changes, checked against the contract's HMAC test vector."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.integrations.webhooks import WebhookError, check_identifier, signature_of, status_change, verify_signature

pytestmark = pytest.mark.unit

CONTRACT = Path(__file__).resolve().parents[2] / "jira_standin" / "contract"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def read(body: bytes, *, now: datetime = NOW):
    return status_change(body, now=now, max_age_seconds=300)


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
        {
            "timestamp": NOW_MS,
            "issue": {
                "key": "PROJ-7",
                "fields": {"status": {"name": "处理中", "statusCategory": {"key": "indeterminate"}}},
            },
        }
    ).encode()
    change = read(body)
    assert change is not None and (change.issue_key, change.category, change.happened_at) == (
        "PROJ-7",
        "indeterminate",
        NOW,
    )
    assert read(json.dumps({"timestamp": NOW_MS, "webhookEvent": "comment_created"}).encode()) is None
    with pytest.raises(WebhookError):
        read(b"not json")


def test_an_event_outside_the_window_is_refused_on_either_side():
    body = json.dumps({"timestamp": NOW_MS, "issue": {"key": "PROJ-1"}}).encode()
    assert read(body, now=NOW + timedelta(seconds=300)) is not None
    for now in (NOW + timedelta(seconds=301), NOW - timedelta(seconds=301)):
        with pytest.raises(WebhookError) as refused:
            read(body, now=now)
        assert refused.value.field == "body.timestamp"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"timestamp": NOW_MS, "issue": {"key": "PROJ-1", "fields": {"status": "str"}}}, "body.issue.fields.status"),
        (
            {"timestamp": NOW_MS, "issue": {"key": "PROJ-1", "fields": {"status": {"statusCategory": {"key": 3}}}}},
            "body.issue.fields.status.statusCategory.key",
        ),
        ({"timestamp": NOW_MS, "issue": {"key": "not a key"}}, "body.issue.key"),
        ({"timestamp": 10**30, "issue": {"key": "PROJ-1"}}, "body.timestamp"),
        ({"timestamp": True}, "body.timestamp"),
    ],
)
def test_unexpected_types_and_sizes_name_the_field(payload, field):
    with pytest.raises(WebhookError) as refused:
        read(json.dumps(payload).encode())
    assert refused.value.field == field


@pytest.mark.parametrize(
    "body",
    [
        b'{"timestamp": 1, "issue": {"key": "A-1", "deep": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}",
        b"\xff\xfe{}",
        b'{"timestamp": 1, "issue": {"key": "A-1", "fields": {"status": {"name": "\xff\xfe"}}}}',
        b"",
    ],
    ids=["50,000 deep", "not utf-8", "not utf-8 inside a string", "empty"],
)
def test_a_body_that_is_no_json_we_can_read_is_a_webhook_error_not_a_crash(body):
    with pytest.raises(WebhookError):
        read(body)


@pytest.mark.parametrize("identifier", [None, "", "x" * 129, "has space", "new\nline", "ünicode"])
def test_a_delivery_identifier_is_short_and_plain(identifier):
    with pytest.raises(WebhookError):
        check_identifier(identifier)
    assert check_identifier("b3f1c2d4-0000-4000-8000-000000000001") == "b3f1c2d4-0000-4000-8000-000000000001"


def test_the_contracts_example_delivery_reads_as_a_status_change():
    bodies = list(CONTRACT.rglob("*status_change*body*.json"))
    assert bodies, "the contract's example delivery is vendored with the stand-in"
    body = bodies[0].read_bytes()
    sent = datetime.fromtimestamp(json.loads(body)["timestamp"] / 1000, UTC)
    change = read(body, now=sent + timedelta(seconds=1))
    assert change is not None and change.category in ("new", "indeterminate", "done") and change.happened_at == sent


def test_the_contracts_hmac_test_vector_verifies():
    body = (CONTRACT / "webhook.jira_issue_updated.status_change.body.json").read_bytes()
    headers = (CONTRACT / "webhook.jira_issue_updated.status_change.headers.txt").read_text()
    signature = next(line.split(": ", 1)[1] for line in headers.splitlines() if line.startswith("X-Hub-Signature"))
    verify_signature("It's a Secret to Everybody", body, signature)
