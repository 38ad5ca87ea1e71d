"""Idea rows for scenarios, runs, plans and comparisons: where the frozen details are found.

The pure rules are in `idea_rows`; this module reads what they need (a run's document and its
scenario's frozen details) and builds the details when a scenario is made from scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit.problems import FieldProblem, InvalidInput
from services.roadmap.optimiser.scenario import IdeaDoc, PhaseDoc
from services.roadmap.scenarios import idea_rows, repository
from services.roadmap.scenarios.domain import Snapshot
from services.roadmap.scenarios.idea_rows import IdeaDetail, IdeaRow


def details_from_snapshot(snapshot: Snapshot, ideas: Sequence[IdeaDoc]) -> dict[str, Any]:
    """The owner, KPIs and quadrant of each idea the scenario plans, as stored with it."""
    planned = {idea.id for idea in ideas}
    details = {
        idea.ref: {"owner": idea.owner, "kpis": idea.kpis, "quadrant": idea.quadrant}
        for idea in snapshot.ideas
        if idea.ref in planned
    }
    # Through the struct and back: what is stored is what `idea_rows.details_of` reads.
    return msgspec.to_builtins(msgspec.convert(details, dict[str, IdeaDetail]))


def quick_wins_only(
    ideas: list[IdeaDoc], details: dict[str, Any], restricted: Sequence[str], phases: Sequence[PhaseDoc]
) -> list[IdeaDoc]:
    """The ideas with the `restricted` phases kept for quick wins; a phase the scenario does
    not have is a 422 naming it."""
    keys = [phase.key for phase in phases]
    for index, key in enumerate(restricted):
        if key not in keys:
            message = f"the scenario has no phase {key!r}; its phases are {', '.join(keys)}"
            raise InvalidInput(
                f"quickWinsOnly[{index}]: {message}",
                errors=[FieldProblem(field=f"quickWinsOnly[{index}]", message=message)],
            )
    return idea_rows.only_quick_wins(ideas, idea_rows.details_of(details), restricted, every_phase=keys)


async def rows_of_run(conn: asyncpg.Connection, run_id: UUID, scenario_id: UUID) -> dict[str, IdeaRow]:
    """A row per idea of the document the run solved, with its scenario's frozen details."""
    document = await repository.run_document(conn, run_id) or {}
    details = idea_rows.details_of(await repository.idea_details(conn, scenario_id))
    return idea_rows.rows_of(document.get("ideas", []), details)


def with_rows(result: dict[str, Any], rows: dict[str, IdeaRow]) -> dict[str, Any]:
    """A result document whose assignments carry their ideas' rows."""
    if "assignments" not in result:
        return result
    return {**result, "assignments": idea_rows.enriched(result["assignments"], rows)}
