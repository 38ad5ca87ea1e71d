"""A model version's ranking figures, stored with its scores: how many ideas it scored and could
not, and the medians its quadrants split at when the model sets no threshold.

Computing them takes a pass and two sorts over every score of the version; a ranking page used
to do that on each read (issue 14). They change only when scores do, so every writer of scores
calls `refresh` in its own transaction (rescoring.py, and deleting an idea), and a page reads
them with the model version in its first statement (ranking_repository.read_start).

Connection first; no transactions.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.scoring.quadrants import Thresholds
from services.scoring.score_types import Quadrants


class ScoreFigures(msgspec.Struct, frozen=True):
    scored: int
    unscored: int
    # Over the ideas with both a score and the effort the version's quadrants read; None when none has both.
    value_median: float | None
    effort_median: float | None


NO_FIGURES = ScoreFigures(0, 0, None, None)

# The effort a version's quadrants read, in SQL: the same default as Quadrants.effort_field.
_EFFORT = "CASE WHEN v.definition #>> '{quadrants,effortField}' = 'cost' THEN s.cost ELSE s.effort END"
_BOTH = "s.score IS NOT NULL AND s.effort IS NOT NULL"

# Columns a query joining `scoring.score_figures f` selects to build ScoreFigures (see of_record).
FIGURE_COLUMNS = (
    "f.scored AS figures_scored, f.unscored AS figures_unscored, "
    "f.value_median AS figures_value_median, f.effort_median AS figures_effort_median"
)


async def refresh(conn: asyncpg.Connection, portfolio_id: UUID, *, version_id: UUID | None = None) -> None:
    """Recompute the figures of every version of the portfolio's models (only `version_id` if given)
    from their stored scores.

    The figures rows are locked first, in a statement of their own: under READ COMMITTED the
    statement that recomputes them then sees every write committed before the lock was granted,
    so two transactions changing different ideas at once cannot leave figures that miss one of
    them.
    """
    await conn.execute(
        """
        SELECT 1 FROM scoring.score_figures f
        JOIN scoring.model_versions v ON v.id = f.model_version_id JOIN scoring.models m ON m.id = v.model_id
        WHERE m.portfolio_id = $1 AND ($2::uuid IS NULL OR v.id = $2)
        ORDER BY f.model_version_id FOR UPDATE OF f
        """,
        portfolio_id,
        version_id,
    )
    await conn.execute(
        f"""
        INSERT INTO scoring.score_figures AS f (model_version_id, scored, unscored, value_median, effort_median)
        SELECT v.id, count(s.score), count(s.idea_id) - count(s.score),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.score) FILTER (WHERE {_BOTH}),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.effort) FILTER (WHERE {_BOTH})
        FROM scoring.model_versions v JOIN scoring.models m ON m.id = v.model_id
        LEFT JOIN LATERAL (
            SELECT s.idea_id, s.score, {_EFFORT} AS effort FROM scoring.scores s WHERE s.model_version_id = v.id
        ) s ON true
        WHERE m.portfolio_id = $1 AND ($2::uuid IS NULL OR v.id = $2)
        GROUP BY v.id
        ON CONFLICT (model_version_id) DO UPDATE
        SET scored = excluded.scored, unscored = excluded.unscored,
            value_median = excluded.value_median, effort_median = excluded.effort_median
        """,
        portfolio_id,
        version_id,
    )


async def read(conn: asyncpg.Connection, version_id: UUID) -> ScoreFigures:
    record = await conn.fetchrow(
        f"SELECT {FIGURE_COLUMNS} FROM scoring.score_figures f WHERE f.model_version_id = $1", version_id
    )
    return NO_FIGURES if record is None else of_record(record)


def of_record(record: Any) -> ScoreFigures:
    """The figures in a record with FIGURE_COLUMNS (a version not yet scored has none: zeros)."""
    if record["figures_scored"] is None:
        return NO_FIGURES
    return ScoreFigures(
        record["figures_scored"],
        record["figures_unscored"],
        record["figures_value_median"],
        record["figures_effort_median"],
    )


def thresholds(definition: dict[str, Any], figures: ScoreFigures) -> Thresholds:
    """Where the version's quadrants split: the model's own thresholds, or else the stored medians."""
    setting = msgspec.convert(definition.get("quadrants") or {}, Quadrants)
    return Thresholds(
        value=figures.value_median if setting.value is None else setting.value,
        effort=figures.effort_median if setting.effort is None else setting.effort,
        effort_field=setting.effort_field,
        from_median=tuple(name for name in ("value", "effort") if getattr(setting, name) is None),
    )
