"""Pure helpers of the runs that explain a finished run: its Solution rebuilt from the stored result.

A sensitivity or alternatives run must explain the plan the leader saw, not a plan a new
solve might find among equals, so the base run's stored result is turned back into the
optimiser's Solution (positions, objective, bound, status) instead of solving again.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from services.roadmap.optimiser import Instance, Plan, Solution
from services.roadmap.optimiser.solution import Stats


class SensitivityIn(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """Limits for a sensitivity run: seconds and re-solves in all."""

    time_limit_seconds: Annotated[float, Meta(gt=0, le=600)] = 30.0
    max_solves: Annotated[int, Meta(ge=1, le=400)] = 40


class AlternativesIn(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """Up to `count` plans differing from the best by `min_difference` ideas, losing at most `max_loss`."""

    count: Annotated[int, Meta(ge=1, le=10)] = 3
    min_difference: Annotated[int, Meta(ge=1, le=1000)] = 2
    max_loss: Annotated[float, Meta(ge=0, lt=1)] = 0.05
    time_limit_seconds: Annotated[float, Meta(gt=0, le=600)] = 60.0


def solution_from_result(instance: Instance, result: dict[str, Any]) -> Solution:
    """The Solution a stored result document describes (positions instead of ids)."""
    ideas = {idea.id: n for n, idea in enumerate(instance.ideas)}
    phases = {phase.key: n for n, phase in enumerate(instance.phases)}
    plan = Plan(tuple(sorted((ideas[a["idea"]], phases[a["phase"]]) for a in result["assignments"])))
    solver = result["solver"]
    return Solution(
        status=result["status"],
        plan=plan,
        objective=result["objective"],
        best_bound=result.get("bestBound"),
        gap=result.get("gap"),
        stats=Stats(
            solver=solver["name"],
            solver_version=solver["version"],
            time_limit_seconds=solver["timeLimitSeconds"],
            relative_gap=solver["relativeGap"],
            seconds=solver["seconds"],
            model_status=solver["modelStatus"],
            greedy_objective=solver.get("greedyObjective"),
        ),
        baseline_penalty=result.get("baselinePenalty"),
        objective_with_penalty=result.get("objectiveWithPenalty"),
    )
