"""Progress reports during a solve, and the caller's answer: go on, or stop with what we have.

`solve(..., on_progress=f)` calls `f(Progress)` in the thread that called `solve`, never in a
HiGHS thread: HiGHS's callbacks only record the incumbent and bound and wake that thread.
Calls come when a better plan is found (improvements that arrive together are reported
once, with the latest) and about once a second in between, during the search and during the
re-solves that explain left-out ideas or diagnose a conflict. Returning False stops the
solve as soon as HiGHS next checks for an interrupt (or half a second later, if it does not
check, with what its callbacks reported); any other return value lets it go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from services.roadmap.optimiser.instance import Plan

SEARCH, EXPLAIN, DIAGNOSE = "search", "explain", "diagnose"

# Why `solve` returned when it did (`Stats.stop_reason`).
COMPLETED, TIME_LIMIT, CALLER = "completed", "time_limit", "caller"


class Progress(msgspec.Struct, frozen=True):
    """The state of a solve in progress.

    `objective` is the pure value sum of `plan`, the best valid plan so far (None until one
    is found); `best_bound` is an upper bound on any plan's objective (with a baseline: on
    the objective with the move penalty); `gap` is `(best_bound - objective) / best_bound`.
    Neither is proof of optimality until the solve returns `optimal`. `stage` is `search`
    while HiGHS looks for the plan, then `explain` (left-out what-ifs) or `diagnose`.
    """

    elapsed_seconds: float
    stage: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    plan: Plan | None
    objective_with_penalty: float | None = None


OnProgress = Callable[[Progress], bool]


class Caller:
    """The caller's `on_progress` and whether it has asked to stop; only the solving thread uses it."""

    def __init__(self, on_progress: OnProgress | None, began: float) -> None:
        self._on_progress = on_progress
        self.began = began
        self.stopped = False

    @property
    def listening(self) -> bool:
        """Whether there is anyone to report to (without a callback, nothing is built)."""
        return self._on_progress is not None

    def elapsed(self) -> float:
        """Seconds since the solve began."""
        return time.perf_counter() - self.began

    def report(self, progress: Progress) -> bool:
        """Pass `progress` on; False once the caller has asked to stop (it is not asked again)."""
        if self.stopped:
            return False
        if self._on_progress is not None and self._on_progress(progress) is False:
            self.stopped = True
        return not self.stopped
