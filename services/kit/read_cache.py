"""Encoded answers of hot reads, reused while nothing they show has changed (issue 14).

A ranking page or a filtered ideas page is read far more often than its portfolio changes. The
first statement of such a read checks the caller's membership and reads the portfolio's
generation, which every committed change the page could show moves (migration 0024). An
answer encoded at generation G is served again, as the same bytes, to any caller whose own
first statement reads G: the check of the caller's rights is never skipped, only the page's
second statement and the Python that builds and encodes it.

Time changes an answer too: an estimate older than the review cadence is shown `stale`. An
entry remembers the earliest estimate it showed as not stale; once the staleness cutoff
passes it, the entry is not used again.

Per process, bounded in bytes, least recently used first out. No I/O here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from typing import NamedTuple


class _Entry(NamedTuple):
    generation: int
    body: bytes
    # The answer shows an estimate made at this moment as fresh: it is right only while the
    # staleness cutoff has not passed it. None: it shows no fresh estimate.
    fresh_since: datetime | None


class ReadCache:
    """At most `max_bytes` of answer bodies, by key; 0 keeps nothing."""

    # One answer may take at most this share of the budget: a walk of big pages would
    # otherwise push every small first page out.
    LARGEST_SHARE = 8

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, max_bytes)
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        """Whether an answer is kept under `key`, current or not (a hint: `get` decides)."""
        return key in self._entries

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get(self, key: Hashable, *, generation: int, cutoff: datetime | None) -> bytes | None:
        """The body kept under `key` if it was encoded at `generation` and no estimate it shows as
        fresh is older than `cutoff` now; otherwise None (and the entry is dropped)."""
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        if entry.generation != generation or _went_stale(entry.fresh_since, cutoff):
            self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.body

    def put(self, key: Hashable, body: bytes, *, generation: int, fresh_since: datetime | None) -> None:
        """Keep `body`, encoded at `generation`; `fresh_since` is the earliest estimate it shows
        as not stale (None if it shows none)."""
        if len(body) * self.LARGEST_SHARE > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = _Entry(generation, body, fresh_since)
        self._bytes += len(body)
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: Hashable) -> None:
        self._bytes -= len(self._entries.pop(key).body)


def _went_stale(fresh_since: datetime | None, cutoff: datetime | None) -> bool:
    # An estimate is stale when it was made before the cutoff (review_rules.is_stale).
    return fresh_since is not None and cutoff is not None and fresh_since < cutoff


def earliest_fresh(estimates: list[datetime | None], cutoff: datetime | None) -> datetime | None:
    """The earliest of `estimates` not stale at `cutoff`: when the cutoff passes it, an answer
    showing these estimates is out of date."""
    if cutoff is None:
        return None
    fresh = [at for at in estimates if at is not None and at >= cutoff]
    return min(fresh, default=None)
