"""Keeping stored scores current: an idea's score under every model version, with its ratings.

Scores are absolute: one idea's estimates and ratings and one model version decide them. They
are stored on every write, so a ranking is a sorted read; this module is that write, and it
keeps each version's stored figures (totals and medians, score_figures.py) in step with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.scoring import formulas, ratings_repository, score_figures, score_repository
from services.scoring.mapping import estimates_of_row, score_to_columns
from services.scoring.ratings import NO_VOICES, Department, Rating, Voices, voices_of
from services.scoring.repository import IdeaRow


async def voices_by_idea(conn: asyncpg.Connection, portfolio_id: UUID, ideas: Sequence[IdeaRow]) -> dict[UUID, Voices]:
    """The ratings of `ideas` as voices of the portfolio's departments (ideas nobody rated are left out)."""
    rows = await ratings_repository.ratings_of(conn, [idea.id for idea in ideas])
    if not rows:
        return {}
    departments = msgspec.convert(await ratings_repository.departments_of(conn, portfolio_id), list[Department])
    grouped: dict[UUID, list[Rating]] = {}
    for row in rows:
        rating = Rating(criterion=row.criterion, subject=row.subject, department=row.department, value=row.value)
        grouped.setdefault(row.idea_id, []).append(rating)
    return {idea_id: voices_of(given, departments) for idea_id, given in grouped.items()}


def score_rows(model: Any, ideas: Sequence[IdeaRow], voices: dict[UUID, Voices]) -> list[tuple[Any, ...]]:
    """The stored score columns of each idea under `model` (see score_repository.upsert_scores)."""
    criteria = formulas.rated_criteria(model)
    rows = []
    for idea in ideas:
        heard = voices.get(idea.id, NO_VOICES)
        result = formulas.score_idea(model, estimates_of_row(idea), heard)
        total_effort = sum(idea.effort.values()) if idea.effort else None
        rows.append(
            (idea.id, idea.ref, *score_to_columns(result), heard.disagreement(criteria), total_effort, idea.cost)
        )
    return rows


async def score_version(
    conn: asyncpg.Connection, portfolio_id: UUID, version_id: UUID, model: Any, ideas: Sequence[IdeaRow]
) -> None:
    """Score `ideas` under one (new) model version."""
    voices = await voices_by_idea(conn, portfolio_id, ideas)
    await score_repository.upsert_scores(conn, version_id, score_rows(model, ideas, voices))
    await score_figures.refresh(conn, portfolio_id, version_id=version_id)


async def rescore(conn: asyncpg.Connection, portfolio_id: UUID, ideas: Sequence[IdeaRow], *, new: bool = False) -> None:
    """Bring the stored scores of `ideas` up to date under every version of every model.

    New ideas have no ratings yet, so their ratings are not looked for.
    """
    versions = await score_repository.all_model_versions(conn, portfolio_id)
    if not versions or not ideas:
        return
    voices = {} if new else await voices_by_idea(conn, portfolio_id, ideas)
    for version in versions:
        model = msgspec.convert(version.definition, formulas.ScoringModel)
        await score_repository.upsert_scores(conn, version.id, score_rows(model, ideas, voices))
    await score_figures.refresh(conn, portfolio_id)
