"""The pure part of events: the CloudEvents envelope, its signature, the retry delays."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from services.kit.events.envelope import (
    RetryPolicy,
    body_of,
    delivered,
    envelope,
    signature,
    signed_headers,
    verify,
)
from services.kit.settings import Settings, SettingsError

EVENT = UUID("00000000-0000-4000-8000-000000000001")
PORTFOLIO = UUID("00000000-0000-4000-8000-0000000000aa")


def test_an_event_is_a_cloudevent_in_structured_mode():
    at = datetime(2026, 12, 7, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    event = envelope("plan.submitted", event_id=EVENT, portfolio_id=PORTFOLIO, subject="plans/p1", at=at, data={"a": 1})
    assert body_of(event) == (
        b'{"specversion":"1.0","id":"00000000-0000-4000-8000-000000000001",'
        b'"source":"/portfolios/00000000-0000-4000-8000-0000000000aa","type":"dev.roadmap-backend.plan.submitted",'
        b'"subject":"plans/p1","time":"2026-12-07T09:30:00+01:00","datacontenttype":"application/json","data":{"a":1}}'
    )
    utc = envelope("ideas.stale", event_id=EVENT, portfolio_id=PORTFOLIO, subject=None, at=at.astimezone(UTC), data={})
    assert utc.time == "2026-12-07T08:30:00Z"


def test_only_known_events_with_a_timezone_are_made():
    with pytest.raises(ValueError, match="unknown event type"):
        envelope("plan.rejected", event_id=EVENT, portfolio_id=PORTFOLIO, subject=None, at=datetime.now(UTC), data={})
    with pytest.raises(ValueError, match="timezone"):
        envelope(
            "plan.approved", event_id=EVENT, portfolio_id=PORTFOLIO, subject=None, at=datetime(2026, 1, 1), data={}
        )


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body_and_a_subscriber_can_check_it():
    body = b'{"id":"x"}'
    expected = hmac.new(b"k", b'1700000000.{"id":"x"}', hashlib.sha256).hexdigest()
    assert signature("k", 1700000000, body) == "sha256=" + expected
    headers = signed_headers("k", 1700000000, body)
    assert headers["Content-Type"] == "application/cloudevents+json; charset=utf-8"
    assert verify("k", headers, body, now=1700000100)
    assert not verify("k", headers, body + b" ", now=1700000100)
    assert not verify("other", headers, body, now=1700000100)
    assert not verify("k", headers, body, now=1700000000 + 301)  # a replay after the tolerance
    assert not verify("k", {**headers, "Roadmap-Timestamp": "1700000001"}, body, now=1700000100)
    assert not verify("k", {"Roadmap-Signature": headers["Roadmap-Signature"]}, body, now=1700000100)


def test_retries_double_from_the_first_delay_to_the_cap_then_stop():
    policy = RetryPolicy(max_attempts=6, first_delay_seconds=10, max_delay_seconds=60)
    assert [policy.delay_after(n) for n in range(1, 7)] == [10, 20, 40, 60, 60, None]
    assert RetryPolicy(max_attempts=1, first_delay_seconds=1, max_delay_seconds=1).delay_after(1) is None
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=3, first_delay_seconds=5, max_delay_seconds=1)


def test_only_a_2xx_answer_delivers():
    assert [delivered(code) for code in (200, 202, 204, 299, 301, 400, 410, 500, 503)] == [
        True, True, True, True, False, False, False, False, False,
    ]  # fmt: skip


def test_event_delivery_settings_are_read_and_checked():
    settings = Settings.from_env({"ROADMAP_EVENT_MAX_ATTEMPTS": "3", "ROADMAP_EVENT_FIRST_RETRY_SECONDS": "2",
                                  "ROADMAP_EVENT_MAX_RETRY_SECONDS": "30", "ROADMAP_EVENT_TIMEOUT_SECONDS": "4",
                                  "ROADMAP_JWT_SECRET": "x" * 40})  # fmt: skip
    assert (settings.event_max_attempts, settings.event_first_retry_seconds, settings.event_max_retry_seconds,
            settings.event_timeout_seconds) == (3, 2.0, 30.0, 4.0)  # fmt: skip
    for bad in ({"ROADMAP_EVENT_MAX_ATTEMPTS": "0"}, {"ROADMAP_EVENT_FIRST_RETRY_SECONDS": "5000"},
                {"ROADMAP_EVENT_TIMEOUT_SECONDS": "-1"}):  # fmt: skip
        with pytest.raises(SettingsError):
            Settings.from_env({**bad, "ROADMAP_JWT_SECRET": "x" * 40})


def test_the_retention_is_a_setting_with_a_default_and_limits():
    secret = {"ROADMAP_JWT_SECRET": "x" * 40}
    assert Settings.from_env(secret).events_retention_days == 14
    assert Settings.from_env({**secret, "ROADMAP_EVENTS_RETENTION_DAYS": "3"}).events_retention_days == 3
    for bad in ("0", "-2", "many", "4000"):
        with pytest.raises(SettingsError, match="ROADMAP_EVENTS_RETENTION_DAYS"):
            Settings.from_env({**secret, "ROADMAP_EVENTS_RETENTION_DAYS": bad})


def test_the_envelope_and_the_plan_events_are_pure():
    code = (
        "import sys, services.kit.events.envelope, services.roadmap.plans.events; "
        "print(sorted(m for m in ('litestar','asyncpg','httpx') if m in sys.modules))"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )
