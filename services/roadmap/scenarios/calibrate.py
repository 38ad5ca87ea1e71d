"""Estimates taught by delivery: scaling a scenario's ideas by their teams' calibration. Pure.

With `"calibration": "apply"` a scenario takes the portfolio's calibration report (scoring's
`GET .../calibration`, services/scoring/calibration.py) and scales each idea as it enters:

- each team's effort by that team's median effort ratio (actual / estimated);
- the idea's cost by its lead team's median cost ratio (the team with the most estimated
  effort, ties to the first key in byte order: the team the cost ratio is counted for).

A team without a ratio keeps its estimates (factor 1, not listed). The factors used, and each
idea's cost before and after, are kept in the scenario's `source.calibration`, so a run with
them can be compared with a run of the same scenario made without.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from services.roadmap.optimiser.scenario import IdeaDoc


class _Ratios(msgspec.Struct, frozen=True):
    median: float
    count: int


class _Team(msgspec.Struct, frozen=True):
    key: str
    cost: _Ratios | None = None
    effort: _Ratios | None = None


class CalibrationReport(msgspec.Struct, frozen=True):
    """The part of scoring's calibration report a scenario uses."""

    teams: list[_Team] = msgspec.field(default_factory=list)


class Factors(msgspec.Struct, frozen=True, rename="camel"):
    cost: dict[str, float]
    effort: dict[str, float]


def factors_of(report: CalibrationReport) -> Factors:
    """Each team's cost and effort factor: its median ratio, where it has one."""
    return Factors(
        cost={team.key: team.cost.median for team in report.teams if team.cost is not None},
        effort={team.key: team.effort.median for team in report.teams if team.effort is not None},
    )


def _lead_team(effort: Mapping[str, float]) -> str | None:
    return min(effort, key=lambda team: (-effort[team], team)) if effort else None


def calibrated(ideas: list[IdeaDoc], factors: Factors) -> tuple[list[IdeaDoc], dict[str, Any]]:
    """The ideas with their cost and effort scaled, and what was applied (for `source.calibration`)."""
    scaled: list[IdeaDoc] = []
    changed: list[dict[str, Any]] = []
    for idea in ideas:
        lead = _lead_team(idea.effort)
        cost_factor = factors.cost.get(lead, 1.0) if lead is not None else 1.0
        effort = {team: round(days * factors.effort.get(team, 1.0), 4) for team, days in idea.effort.items()}
        cost = round(idea.cost * cost_factor, 2)
        if cost != idea.cost or effort != idea.effort:
            changed.append({"idea": idea.id, "leadTeam": lead, "cost": {"from": idea.cost, "to": cost},
                            "effort": {"from": dict(idea.effort), "to": effort}})  # fmt: skip
        scaled.append(msgspec.structs.replace(idea, cost=cost, effort=effort))
    return scaled, {"applied": True, "factors": msgspec.to_builtins(factors), "ideas": changed}
