"""SQL of the backlog's views: a filtered page of ideas, and the journey's facets with their
counts. Connection first; no transactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.scoring.repository import IDEA_COLUMNS, IdeaRow, ideas_of, many, page_bounds


class IdeaFilter(msgspec.Struct, frozen=True, kw_only=True):
    persona: str | None = None
    journey_stage: str | None = None
    touchpoint: str | None = None
    channel: str | None = None
    department: str | None = None
    tag: str | None = None
    phase: str | None = None
    text: str | None = None
    # Only ideas whose estimates were made before (True) or since (False) this cutoff.
    stale: bool | None = None
    stale_cutoff: datetime | None = None
    owner: str | None = None
    without_owner: bool = False


def _filter_sql(filters: IdeaFilter, first_param: int) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    # Journey values are typed by people ("Busy parent", "busy parent"): they match whatever the
    # case. No index is needed: the portfolio's ideas are read by its index, then compared.
    for column in ("persona", "journey_stage", "touchpoint", "channel"):
        value = getattr(filters, column)
        if value is not None:
            params.append(value)
            clauses.append(f"lower({column}) = lower(${first_param + len(params) - 1})")
    if filters.department is not None:
        # The idea's owning department, or the department of its owner.
        params.append(filters.department)
        n = first_param + len(params) - 1
        clauses.append(f"(lower(department) = lower(${n}) OR lower(owner->>'department') = lower(${n}))")
    if filters.owner is not None:
        params.append(filters.owner)
        n = first_param + len(params) - 1
        clauses.append(f"lower(${n}) IN (lower(owner->>'subject'), lower(owner->>'email'), lower(owner->>'name'))")
    if filters.without_owner:
        clauses.append("owner IS NULL")
    if filters.tag is not None:
        params.append(filters.tag)
        clauses.append(f"${first_param + len(params) - 1} = ANY(tags)")
    if filters.phase is not None:
        params.append(filters.phase)
        clauses.append(f"${first_param + len(params) - 1} = ANY(phases)")
    if filters.text is not None:
        params.append(filters.text)
        n = first_param + len(params) - 1
        clauses.append(f"(strpos(lower(title), lower(${n})) > 0 OR strpos(lower(description), lower(${n})) > 0)")
    if filters.stale is not None and filters.stale_cutoff is not None:
        params.append(filters.stale_cutoff)
        clauses.append(f"estimated_at {'<' if filters.stale else '>='} ${first_param + len(params) - 1}")
    return "".join(f" AND {clause}" for clause in clauses), params


async def list_ideas(
    conn: asyncpg.Connection, portfolio_id: UUID, *, filters: IdeaFilter, limit: int, offset: int
) -> tuple[list[IdeaRow], int]:
    """A page of the matching ideas in ref order, and how many match, in one statement.

    The count is a subquery of its own, run once: a window count over the matches would read
    and sort every matching row before the limit, where the page alone stops after it.
    """
    where, params = _filter_sql(filters, first_param=2)
    records = await conn.fetch(
        f"""
        SELECT {IDEA_COLUMNS}, (SELECT count(*) FROM scoring.ideas WHERE portfolio_id = $1{where}) AS matching
        FROM scoring.ideas WHERE portfolio_id = $1{where}
        ORDER BY ref COLLATE "C"{page_bounds(limit, offset)}
        """,
        portfolio_id,
        *params,
    )
    if records or offset == 0:
        total = records[0]["matching"] if records else 0
    else:  # a page past the end has no row to carry the count
        total = await conn.fetchval(
            f"SELECT count(*) FROM scoring.ideas WHERE portfolio_id = $1{where}", portfolio_id, *params
        )
    return ideas_of(records), total


JOURNEY_FACETS = ("persona", "journey_stage", "touchpoint", "channel", "department")


class FacetCount(msgspec.Struct, frozen=True):
    facet: str
    value: str
    ideas: int


async def journey_facets(conn: asyncpg.Connection, portfolio_id: UUID) -> list[FacetCount]:
    """Each journey value and tag in use in the portfolio, with how many ideas carry it."""
    by_column = " UNION ALL ".join(
        f"SELECT '{column}' AS facet, {column} AS value, count(*)::int AS ideas FROM scoring.ideas "
        f"WHERE portfolio_id = $1 AND {column} IS NOT NULL GROUP BY {column}"
        for column in JOURNEY_FACETS
    )
    records = await conn.fetch(
        f"""
        {by_column}
        UNION ALL
        SELECT 'tag', tag, count(*)::int FROM scoring.ideas CROSS JOIN unnest(tags) AS tag
        WHERE portfolio_id = $1 GROUP BY tag
        ORDER BY facet, ideas DESC, value
        """,
        portfolio_id,
    )
    return many(records, FacetCount)
