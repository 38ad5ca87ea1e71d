"""The backoff policy for Jira calls: capped full jitter, Retry-After first, a bounded number of tries."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from services.integrations.retry import RetryPolicy, Verdict, retry_after_seconds, verdict

pytestmark = pytest.mark.unit


def test_the_jittered_delay_stays_within_zero_and_the_capped_exponential() -> None:
    policy = RetryPolicy(base=0.5, cap=8.0)
    rng = random.Random(7)
    for attempt in range(12):
        ceiling = min(8.0, 0.5 * 2**attempt)
        delays = [policy.delay(attempt, None, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > 0.8 * ceiling  # full jitter spreads over the whole range
        assert min(delays) < 0.2 * ceiling


def test_the_delay_never_passes_the_cap_even_after_very_many_attempts() -> None:
    policy = RetryPolicy(base=1.0, cap=30.0)
    rng = random.Random(1)
    assert all(policy.delay(attempt, None, rng) <= 30.0 for attempt in (20, 64, 1000, 10**6))


def test_the_same_seed_gives_the_same_delays() -> None:
    policy = RetryPolicy()
    first = [policy.delay(n, None, random.Random(3)) for n in range(5)]
    assert first == [policy.delay(n, None, random.Random(3)) for n in range(5)]


def test_retry_after_wins_over_the_backoff_even_above_the_cap() -> None:
    policy = RetryPolicy(base=1.0, cap=4.0)
    rng = random.Random(0)
    assert policy.delay(0, 7.0, rng) == 7.0
    assert policy.delay(9, 0.0, rng) == 0.0


def test_the_policy_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3, max_total_seconds=1000)
    assert policy.allows(1, 0.0, 1.0)
    assert policy.allows(2, 1.0, 1.0)
    assert not policy.allows(3, 2.0, 1.0)


def test_the_policy_gives_up_when_the_wait_would_pass_the_total_budget() -> None:
    policy = RetryPolicy(max_attempts=10, max_total_seconds=60)
    assert policy.allows(1, 50.0, 10.0)
    assert not policy.allows(1, 50.0, 10.5)
    assert not policy.allows(1, 0.0, 3600.0)  # a quota reset an hour away is not waited for


@pytest.mark.parametrize(
    "arguments", [{"base": 0}, {"base": 2, "cap": 1}, {"max_attempts": 0}, {"max_total_seconds": -1}]
)
def test_a_policy_that_could_not_work_is_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**arguments)


@pytest.mark.parametrize("safe", [True, False])
@pytest.mark.parametrize("status", [429, 503])
def test_a_refusal_is_retried_whatever_the_call(status: int, safe: bool) -> None:
    assert verdict(status, safe=safe) is Verdict.RETRY


@pytest.mark.parametrize("safe", [True, False])
def test_a_connection_never_made_is_retried_whatever_the_call(safe: bool) -> None:
    assert verdict(None, safe=safe, sent=False) is Verdict.RETRY


@pytest.mark.parametrize("status", [None, 502, 504])
def test_no_answer_or_a_gateway_error_is_retried_only_when_a_repeat_is_harmless(status: int | None) -> None:
    assert verdict(status, safe=True) is Verdict.RETRY
    assert verdict(status, safe=False) is Verdict.UNKNOWN


def test_a_500_is_an_answer_for_a_safe_call_but_leaves_a_create_in_doubt() -> None:
    assert verdict(500, safe=True) is Verdict.ANSWER
    assert verdict(500, safe=False) is Verdict.UNKNOWN


@pytest.mark.parametrize("status", [200, 201, 204, 400, 401, 403, 404, 409, 410])
def test_success_and_client_errors_are_answers_not_retries(status: int) -> None:
    assert verdict(status, safe=True) is Verdict.ANSWER
    assert verdict(status, safe=False) is Verdict.ANSWER


NOW = datetime(2026, 3, 5, 10, 0, 30, tzinfo=UTC)


def test_retry_after_seconds_reads_the_header_jira_sends() -> None:
    assert retry_after_seconds({"Retry-After": "12"}, NOW) == 12.0
    assert retry_after_seconds({"Retry-After": "12", "X-RateLimit-Reset": "2026-03-05T11:00Z"}, NOW) == 12.0


def test_without_retry_after_the_rate_limit_reset_time_is_waited_for() -> None:
    assert retry_after_seconds({"X-RateLimit-Reset": "2026-03-05T10:02Z"}, NOW) == 90.0


def test_no_usable_header_means_back_off_instead() -> None:
    assert retry_after_seconds({}, NOW) is None
    assert retry_after_seconds({"X-RateLimit-Reset": "2026-03-05T10:00Z"}, NOW) is None  # already past
    assert retry_after_seconds({"X-RateLimit-Reset": "soon"}, NOW) is None
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, NOW) is None


def test_the_policy_imports_no_web_database_or_http_library() -> None:
    # A fresh interpreter, so imports made by other tests cannot hide a leak.
    code = "import sys, services.integrations.retry\nprint(','.join(m for m in ('litestar', 'asyncpg', 'httpx') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
