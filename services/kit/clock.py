"""The time a use case works with, injected so tests can set it.

Staleness, estimate dates and reviews depend on "now". The apps take a `Clock` (any callable
that returns an aware datetime) and pass it down; production uses `system_clock`, a test a
clock it moves forward by hand, so a test of "90 days later" does not sleep.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)
