"""What a solve returns: the configuration it ran with and the solution it found."""

from __future__ import annotations

from typing import Any

import msgspec

from services.roadmap.optimiser.instance import Instance, Plan

OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN = "optimal", "feasible", "infeasible", "unknown"


class SolveConfig(msgspec.Struct, frozen=True):
    """How to solve: limits for the main solve and for the left-out explanations.

    `what_if_limit` left-out ideas (the most valuable first) get a re-solve with the idea
    forced in, within `what_if_budget()` seconds in all; the others say that it was skipped.
    """

    time_limit_seconds: float = 60.0
    relative_gap: float = 0.0
    what_if_limit: int = 10
    what_if_seconds: float = 10.0
    diagnosis_seconds: float = 30.0
    threads: int | None = None

    def __post_init__(self) -> None:
        if not self.time_limit_seconds > 0:
            raise ValueError("time limit must be > 0")
        if not 0 <= self.relative_gap < 1:
            raise ValueError("relative gap must be in [0, 1)")
        if self.what_if_limit < 0 or self.what_if_seconds < 0 or self.diagnosis_seconds < 0:
            raise ValueError("explanation limits must be >= 0")

    def what_if_budget(self) -> float:
        """Seconds for all what-if re-solves: `what_if_seconds`, at most half the time limit."""
        return min(self.what_if_seconds, self.time_limit_seconds / 2)

    @classmethod
    def for_instance(
        cls, instance: Instance, *, time_limit: float | None = None, gap: float | None = None, **other: Any
    ) -> SolveConfig:
        """The scenario's own solver settings, with any command-line overrides applied."""
        return cls(
            time_limit_seconds=instance.solver.time_limit_seconds if time_limit is None else time_limit,
            relative_gap=instance.solver.relative_gap if gap is None else gap,
            **other,
        )


class Conflict(msgspec.Struct, frozen=True):
    """One reason a scenario has no plan: a kind, a message, and the fields in conflict."""

    kind: str
    message: str
    constraints: tuple[str, ...]


class LeftOut(msgspec.Struct, frozen=True):
    """Why an idea is not in the plan; `detail` is JSON-ready and names ids and keys."""

    idea: int
    reason: str
    detail: dict[str, Any]


class Stats(msgspec.Struct, frozen=True):
    """How the solve went.

    `stop_reason`: why `solve` returned when it did: `completed` (the search ended by itself:
    proven, gap reached or infeasible), `time_limit`, or `caller` (its progress function
    asked to stop).
    """

    solver: str
    solver_version: str
    time_limit_seconds: float
    relative_gap: float
    seconds: float
    model_status: str
    greedy_objective: float | None
    explained_what_if: int = 0
    skipped_what_if: int = 0
    stop_reason: str = "completed"


class Solution(msgspec.Struct, frozen=True):
    """The result of a solve. `plan` is None exactly when no plan was found.

    `objective` is the pure value sum of the plan. With a baseline, the solve maximises
    `objective_with_penalty` (the value minus `baseline_penalty`, the move penalty paid), and
    `best_bound` and `gap` refer to it; without one, both are None.
    """

    status: str
    plan: Plan | None
    objective: float | None
    best_bound: float | None
    gap: float | None
    stats: Stats
    diagnosis: tuple[Conflict, ...] = ()
    left_out: tuple[LeftOut, ...] = ()
    baseline_penalty: float | None = None
    objective_with_penalty: float | None = None
