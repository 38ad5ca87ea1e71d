"""SQL of the other views of a ranking: by disagreement, or one quadrant.

Connection first; no transactions. The default view (score order, every idea) is in
score_repository, where keyset pagination keeps deep pages cheap; these views page by number.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from services.scoring.quadrants import Thresholds
from services.scoring.ranking_repository import RANKED_COLUMNS, RANKED_FROM, RankedRow, positioned
from services.scoring.repository import page_bounds

# An idea's effort as a quadrant reads it: its effort summed over teams, or its cost, both
# stored with each score so a quadrant needs no join.
_EFFORT = {"effort": "s.effort", "cost": "s.cost"}
_ORDER = {
    "score": "-s.score, s.ref",
    "disagreement": "s.disagreement DESC NULLS LAST, -s.score, s.ref",
}


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
    records = await conn.fetch(
        f"SELECT {RANKED_COLUMNS} {RANKED_FROM}{where} ORDER BY {_ORDER[sort]}{page_bounds(limit, offset)}",
        model_version_id,
        *params,
    )
    total = await conn.fetchval(f"SELECT count(*) {RANKED_FROM}{where}", model_version_id, *params)
    return positioned(records, first=offset + 1), total
