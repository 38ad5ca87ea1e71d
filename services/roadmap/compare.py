"""Comparing runs side by side: pure functions over result documents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec


class Move(msgspec.Struct, frozen=True, rename="camel"):
    idea: str
    from_phase: str
    to_phase: str


class RunColumn(msgspec.Struct, frozen=True, rename="camel"):
    """One run as a column of the comparison: its totals, and how it differs from the first."""

    run_id: str
    status: str
    objective: float | None
    gap: float | None
    spend: dict[str, float]
    budget: dict[str, float]
    added: list[str]
    removed: list[str]
    moved: list[Move]


def assignments_of(result: Mapping[str, Any]) -> dict[str, str]:
    """Idea id -> phase key of a result document."""
    return {item["idea"]: item["phase"] for item in result.get("assignments", [])}


def compare(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RunColumn]:
    """Each run against the first: ideas added, removed or moved between phases, spend, objective.

    The first run is the baseline, so its own added/removed/moved lists are empty.
    """
    baseline = assignments_of(runs[0][1])
    columns = []
    for run_id, result in runs:
        chosen = assignments_of(result)
        columns.append(
            RunColumn(
                run_id=run_id,
                status=result["status"],
                objective=result.get("objective"),
                gap=result.get("gap"),
                spend={phase["key"]: phase["spend"] for phase in result.get("phases", [])},
                budget={phase["key"]: phase["budget"] for phase in result.get("phases", [])},
                added=sorted(set(chosen) - set(baseline)),
                removed=sorted(set(baseline) - set(chosen)),
                moved=[
                    Move(idea=idea, from_phase=baseline[idea], to_phase=phase)
                    for idea, phase in sorted(chosen.items())
                    if idea in baseline and baseline[idea] != phase
                ],
            )
        )
    return columns
