"""When to retry a call to Jira, and how long to wait first: pure, so it is tested in milliseconds.

Whether to retry depends on whether Jira may already have acted. 429 and 503 are refusals: the
request was not carried out, so any call is tried again. A connection never made is the same.
A missing answer (read timeout, dropped connection) or a 500/502/504, which a gateway may send
after Jira acted, is retried only for calls that are safe to repeat; for the others (creates,
comments) the outcome is unknown and the caller must look before trying again, because Jira
has no idempotency key (CONTRACT.md §1, §2.6).

Jira asks clients to wait the `Retry-After` it sends with 429 (and some 503) answers; retrying
earlier fails again with the same or a longer wait (shared/jira/CONTRACT.md §4). Without that
header the wait grows exponentially with full jitter ("AWS Architecture Blog: Exponential
Backoff And Jitter"), so that workers rate-limited together do not come back together.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from datetime import UTC, datetime

import msgspec

REFUSED = frozenset({429, 503})  # rate limiter or overload: Jira did not act
IN_DOUBT = frozenset({500, 502, 504})  # a gateway may answer this after Jira acted
GATEWAY = frozenset({502, 504})  # transient, so worth another try when a repeat is harmless


class Verdict(enum.Enum):
    """What to do with the outcome of one attempt."""

    ANSWER = "answer"  # give the caller the response: success, or an error a retry will not fix
    RETRY = "retry"  # Jira did not act, or acting twice is harmless: wait, then try again
    UNKNOWN = "unknown"  # Jira may have acted and a repeat could duplicate: stop, let the caller look


def verdict(status: int | None, *, safe: bool, sent: bool = True) -> Verdict:
    """Judge one attempt: `status` is None when no answer came; `sent` is False when no connection was made.

    `safe` says a repeat is harmless (GET, search, PUT edit, issue links that Jira de-duplicates).
    """
    if status in REFUSED or (status is None and not sent):
        return Verdict.RETRY
    if status is None or status in IN_DOUBT:
        if not safe:
            return Verdict.UNKNOWN
        return Verdict.RETRY if status is None or status in GATEWAY else Verdict.ANSWER
    return Verdict.ANSWER


class RetryPolicy(msgspec.Struct, frozen=True):
    """How many times, and for how long in total, a call is retried.

    `base` and `cap` bound the jittered backoff (seconds); `max_attempts` counts the first try;
    `max_total_seconds` bounds the time spent waiting between attempts, so a quota reset an hour
    away makes the caller give up (and reschedule) instead of holding a worker for an hour.
    """

    base: float = 1.0
    cap: float = 30.0
    max_attempts: int = 5
    max_total_seconds: float = 120.0

    def __post_init__(self) -> None:
        # Struct field constraints are only checked when decoding, so check them here.
        if self.base <= 0 or self.cap < self.base:
            raise ValueError("a retry policy needs 0 < base <= cap")
        if self.max_attempts < 1 or self.max_total_seconds < 0:
            raise ValueError("a retry policy needs max_attempts >= 1 and max_total_seconds >= 0")

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number `attempt` (0 for the first retry).

        The server's `retry_after` wins when given; otherwise a full-jitter draw from
        [0, min(cap, base * 2**attempt)].
        """
        if retry_after is not None:
            return max(0.0, retry_after)
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 62))  # 2**1024 overflows a float
        return rng.uniform(0.0, ceiling)

    def allows(self, attempts_made: int, waited: float, next_delay: float) -> bool:
        """Whether another attempt may follow `attempts_made` tries after waiting `next_delay` more."""
        return attempts_made < self.max_attempts and waited + next_delay <= self.max_total_seconds


def retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """The wait Jira asks for: `Retry-After` seconds, else the time until `X-RateLimit-Reset`.

    Jira sends Retry-After as integer seconds and X-RateLimit-Reset as `yyyy-MM-ddTHH:mmZ`
    (CONTRACT.md §4); neither is always present, and then the answer is None (back off instead).
    `headers` must look names up case-insensitively, as `httpx.Headers` does.
    """
    value = headers.get("Retry-After")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass  # an HTTP-date form is not something Jira sends; fall through to the reset time
    reset = headers.get("X-RateLimit-Reset")
    if reset is not None:
        try:
            at = datetime.strptime(reset, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
        except ValueError:
            return None
        remaining = (at - now).total_seconds()
        return remaining if remaining > 0 else None
    return None


class OutagePolicy(msgspec.Struct, frozen=True):
    """How a push waits out a Jira outage that outlasted its calls' own retries.

    Between attempts the push waits from `first` seconds, doubling each time up to `cap`, drawn
    from the upper half of that ceiling ("equal jitter"): pushes stopped by one outage spread out,
    and none comes back at once. A longer `Retry-After` from Jira wins, since retrying earlier
    fails again (CONTRACT.md §4). An outage is counted from the first attempt that met it; once
    it has lasted `give_up` seconds the push stops waiting and fails.
    """

    first: float = 30.0
    cap: float = 600.0
    give_up: float = 6 * 3600.0

    def __post_init__(self) -> None:
        if not 0 < self.first <= self.cap:
            raise ValueError("an outage policy needs 0 < first <= cap")
        if self.give_up < 0:
            raise ValueError("an outage policy needs give_up >= 0")

    def wait(self, waits: int, retry_after: float | None, outage_seconds: float, rng: random.Random) -> float | None:
        """Seconds to wait before the next attempt, or None to give up.

        `waits` is how often the push already waited in this outage, `outage_seconds` how long
        the outage has lasted so far. The wait never reaches past the give-up time, so the last
        attempt comes when the outage has lasted `give_up` seconds, not a whole wait later.
        """
        remaining = self.give_up - outage_seconds
        if remaining <= 0:
            return None
        ceiling = min(self.cap, self.first * 2.0 ** min(waits, 62))
        wait = max(rng.uniform(ceiling / 2, ceiling), retry_after or 0.0)
        return min(wait, remaining)
