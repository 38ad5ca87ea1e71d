"""Comparing runs side by side: pure functions over result documents.

Only optimisation runs with a result compare: a frontier sweep, a sensitivity or alternatives
run answers other questions, and a run still working has no result yet. Those are listed apart,
each with the reason, instead of failing the comparison. The vocabulary is the result
document's: `{idea, phase}` for an assignment, `{idea, from, to}` for a move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from services.roadmap.optimiser.result import AssignmentDoc, MovedDoc


class RunColumn(msgspec.Struct, frozen=True, rename="camel"):
    """One run as a column of the comparison: its totals, and how it differs from the first."""

    run_id: str
    status: str
    objective: float | None
    gap: float | None
    spend: dict[str, float]
    budget: dict[str, float]
    added: list[AssignmentDoc]
    removed: list[AssignmentDoc]
    moved: list[MovedDoc]


class NotCompared(msgspec.Struct, frozen=True, rename="camel"):
    """A run asked for that cannot be a column, and why."""

    run_id: str
    kind: str
    status: str
    reason: str


class Candidate(msgspec.Struct, frozen=True):
    """A run asked for: its kind and status, and its result document if it has one."""

    run_id: str
    kind: str
    status: str
    result: Mapping[str, Any] | None


def why_not_comparable(candidate: Candidate) -> str | None:
    """None if the run can be a column of a comparison; otherwise the reason, in words."""
    if candidate.kind != "optimise":
        return f"a {candidate.kind} run answers another question; only optimisation runs compare"
    if candidate.result is None:
        return f"it is {candidate.status}: it has no result yet"
    return None


def assignments_of(result: Mapping[str, Any]) -> dict[str, str]:
    """Idea id -> phase key of a result document."""
    return {item["idea"]: item["phase"] for item in result.get("assignments", [])}


def compare(candidates: Sequence[Candidate]) -> tuple[list[RunColumn], list[NotCompared]]:
    """The comparable runs, each against the first of them, and the others with their reasons.

    The first comparable run is the baseline, so its own added/removed/moved lists are empty.
    """
    comparable = [c for c in candidates if why_not_comparable(c) is None]
    left_out = [
        NotCompared(run_id=c.run_id, kind=c.kind, status=c.status, reason=why)
        for c in candidates
        if (why := why_not_comparable(c)) is not None
    ]
    if not comparable:
        return [], left_out
    baseline = assignments_of(comparable[0].result or {})
    columns = []
    for candidate in comparable:
        result = candidate.result or {}
        chosen = assignments_of(result)
        columns.append(
            RunColumn(
                run_id=candidate.run_id,
                status=result.get("status", candidate.status),
                objective=result.get("objective"),
                gap=result.get("gap"),
                spend={phase["key"]: phase["spend"] for phase in result.get("phases", [])},
                budget={phase["key"]: phase["budget"] for phase in result.get("phases", [])},
                added=[AssignmentDoc(idea=i, phase=p) for i, p in sorted(chosen.items()) if i not in baseline],
                removed=[AssignmentDoc(idea=i, phase=p) for i, p in sorted(baseline.items()) if i not in chosen],
                moved=[
                    MovedDoc(idea=idea, from_=baseline[idea], to=phase)
                    for idea, phase in sorted(chosen.items())
                    if idea in baseline and baseline[idea] != phase
                ],
            )
        )
    return columns, left_out
