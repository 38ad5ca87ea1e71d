"""SQL of the other views of a ranking: by disagreement, one quadrant, and the quadrant medians.

Connection first; no transactions. The default view (score order, every idea) is in
score_repository, where keyset pagination keeps deep pages cheap; these views page by number.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.scoring.quadrants import Thresholds
from services.scoring.score_repository import RANKED_COLUMNS, RANKED_FROM, RankedRow, positioned
from services.scoring.score_types import Quadrants

# An idea's effort as a quadrant reads it: its effort summed over teams, or its cost, both
# stored with each score so the medians need no join.
_EFFORT = {"effort": "s.effort", "cost": "s.cost"}
_ORDER = {
    "score": "-s.score, s.ref",
    "disagreement": "s.disagreement DESC NULLS LAST, -s.score, s.ref",
}


async def counts_and_thresholds(
    conn: asyncpg.Connection, model_version_id: UUID, definition: dict[str, Any]
) -> tuple[int, int, Thresholds]:
    """How many ideas the version scored and could not, and its quadrant thresholds: a threshold
    the model's `definition` does not set is the median over the ideas that have both a score
    and the effort the quadrants read. One pass over the version's scores serves both."""
    setting = msgspec.convert(definition.get("quadrants") or {}, Quadrants)
    effort = _EFFORT[setting.effort_field]
    both = f"s.score IS NOT NULL AND {effort} IS NOT NULL"
    figures = await conn.fetchrow(
        f"""
        SELECT count(s.score) AS scored, count(*) - count(s.score) AS unscored,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.score) FILTER (WHERE {both}) AS value,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY {effort}) FILTER (WHERE {both}) AS effort
        FROM scoring.scores s WHERE s.model_version_id = $1
        """,
        model_version_id,
    )
    limits = Thresholds(
        value=figures["value"] if setting.value is None else setting.value,
        effort=figures["effort"] if setting.effort is None else setting.effort,
        effort_field=setting.effort_field,
        from_median=tuple(name for name in ("value", "effort") if getattr(setting, name) is None),
    )
    return figures["scored"], figures["unscored"], limits


def _quadrant_sql(quadrant: str | None, limits: Thresholds, first_param: int) -> tuple[str, list[Any]]:
    if quadrant is None:
        return "", []
    if limits.value is None or limits.effort is None:
        return " AND false", []
    effort = _EFFORT[limits.effort_field]
    value_side = ">=" if quadrant in ("quickWin", "majorProject") else "<"
    effort_side = "<=" if quadrant in ("quickWin", "fillIn") else ">"
    clause = f" AND s.score {value_side} ${first_param} AND {effort} {effort_side} ${first_param + 1}"
    return clause, [limits.value, limits.effort]


async def view_page(
    conn: asyncpg.Connection,
    model_version_id: UUID,
    *,
    sort: str,
    quadrant: str | None,
    limits: Thresholds,
    limit: int,
    offset: int,
) -> tuple[list[RankedRow], int]:
    """A page of the ranking in `sort` order, only the ideas of `quadrant` if given, and how
    many ideas the view holds."""
    where, params = _quadrant_sql(quadrant, limits, first_param=2)
    n = len(params) + 2
    records = await conn.fetch(
        f"SELECT {RANKED_COLUMNS} {RANKED_FROM}{where} ORDER BY {_ORDER[sort]} LIMIT ${n} OFFSET ${n + 1}",
        model_version_id,
        *params,
        limit,
        offset,
    )
    total = await conn.fetchval(f"SELECT count(*) {RANKED_FROM}{where}", model_version_id, *params)
    return positioned(records, first=offset + 1), total
