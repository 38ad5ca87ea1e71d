"""SQL of portfolios and ideas. Functions take the connection first; they never manage transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access.repository import visible_portfolios


class PortfolioRow(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    currency: str
    phase_labels: dict[str, str]
    idea_count: int
    departments: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    review_every_days: int = 90


class IdeaRow(msgspec.Struct, frozen=True):
    id: UUID
    ref: str
    title: str
    description: str
    persona: str | None
    journey_stage: str | None
    touchpoint: str | None
    channel: str | None
    pain_point: str | None
    department: str | None
    tags: list[str]
    customer_impact: float | None
    reach: float | None
    confidence: float | None
    effort: dict[str, float]
    cost: float | None
    annual_benefit: float | None
    time_criticality: float | None
    risk_reduction: float | None
    phases: list[str]
    owner: dict[str, Any] | None
    kpis: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    # When and by whom the estimates were last made, and since when they are stale (the
    # periodic review check records that; a new estimate clears it).
    estimated_at: datetime | None = None
    estimated_by: str | None = None
    stale_since: datetime | None = None


def page_bounds(limit: int, offset: int = 0) -> str:
    """LIMIT and OFFSET written into the statement, not sent as parameters.

    With both as parameters PostgreSQL's generic plan cannot know the page is small, costs it
    as a tenth of the table, and so plans each execution afresh: about a third of a page
    read's time in the database (issue 14). Written in, a page size's statement gets a generic
    plan after five executions and is not planned again. They are integers, checked here.
    """
    return f" LIMIT {int(limit)}" + (f" OFFSET {int(offset)}" if offset else "")


def one(record: asyncpg.Record | None, row_type: type[Any]) -> Any:
    return None if record is None else msgspec.convert(dict(record), row_type)


def many(records: Sequence[asyncpg.Record], row_type: type[Any]) -> list[Any]:
    return [msgspec.convert(dict(record), row_type) for record in records]


# --- portfolios -------------------------------------------------------------------------

_PORTFOLIO_COLUMNS = """
    p.id, p.name, p.currency, p.phase_labels, p.departments, p.created_at, p.updated_at, p.review_every_days,
    (SELECT count(*) FROM scoring.ideas i WHERE i.portfolio_id = p.id) AS idea_count
"""


async def insert_portfolio(
    conn: asyncpg.Connection, portfolio_id: UUID, *, name: str, currency: str, phase_labels: dict[str, str]
) -> PortfolioRow:
    """The scoring side of a portfolio whose tenant (`access.portfolios`) was just made."""
    record = await conn.fetchrow(
        """
        WITH p AS (
            INSERT INTO scoring.portfolios (id, name, currency, phase_labels) VALUES ($1, $2, $3, $4)
            RETURNING id, name, currency, phase_labels, departments, created_at, updated_at, review_every_days
        )
        SELECT p.*, 0::bigint AS idea_count FROM p
        """,
        portfolio_id,
        name,
        currency,
        phase_labels,
    )
    return one(record, PortfolioRow)


async def get_portfolio(
    conn: asyncpg.Connection, portfolio_id: UUID, *, for_update: bool = False
) -> PortfolioRow | None:
    lock = " FOR UPDATE OF p" if for_update else ""
    record = await conn.fetchrow(
        f"SELECT {_PORTFOLIO_COLUMNS} FROM scoring.portfolios p WHERE p.id = $1{lock}", portfolio_id
    )
    return one(record, PortfolioRow)


async def list_portfolios(
    conn: asyncpg.Connection, *, scope: tuple[str, list[str]] | None, limit: int, offset: int
) -> tuple[list[PortfolioRow], int]:
    """A page of portfolios, oldest first: those `scope` (subject, groups) is a member of, or all."""
    params = [] if scope is None else list(scope)

    def where(first_param: int) -> str:
        return "" if scope is None else f"WHERE {visible_portfolios('p.id', first_param=first_param)}"

    records = await conn.fetch(
        f"SELECT {_PORTFOLIO_COLUMNS} FROM scoring.portfolios p {where(3)} ORDER BY p.created_at, p.id LIMIT $1 OFFSET $2",
        limit,
        offset,
        *params,
    )
    total = await conn.fetchval(f"SELECT count(*) FROM scoring.portfolios p {where(1)}", *params)
    return many(records, PortfolioRow), total


async def update_portfolio(
    conn: asyncpg.Connection, portfolio_id: UUID, *, name: str, currency: str, phase_labels: dict[str, str]
) -> None:
    await conn.execute(
        """
        UPDATE scoring.portfolios SET name = $2, currency = $3, phase_labels = $4, updated_at = now()
        WHERE id = $1
        """,
        portfolio_id,
        name,
        currency,
        phase_labels,
    )


# --- ideas ------------------------------------------------------------------------------

IDEA_WRITE_COLUMNS = (
    "ref",
    "title",
    "description",
    "persona",
    "journey_stage",
    "touchpoint",
    "channel",
    "pain_point",
    "department",
    "tags",
    "customer_impact",
    "reach",
    "confidence",
    "effort",
    "cost",
    "annual_benefit",
    "time_criticality",
    "risk_reduction",
    "phases",
    "owner",
    "kpis",
)
_IDEA_FIELDS = ("id", *IDEA_WRITE_COLUMNS, "created_at", "updated_at", "estimated_at", "estimated_by", "stale_since")
IDEA_COLUMNS = ", ".join(_IDEA_FIELDS)
# Pages of ideas are built from their records by position: a dict per record and a checked
# conversion cost more than the page's statement (issue 14). PostgreSQL's column types are the
# struct's, so the columns must be its fields, in order.
assert _IDEA_FIELDS == IdeaRow.__struct_fields__


_EFFORT_AT = _IDEA_FIELDS.index("effort")


def ideas_of(records: Sequence[asyncpg.Record]) -> list[IdeaRow]:
    """IdeaRows of records that start with IDEA_COLUMNS (a column after them is left out)."""
    width, rows = len(_IDEA_FIELDS), []
    for record in records:
        values = list(record)[:width]
        # jsonb gives a number back as it was written (39 or 39.0); the effort is in float days.
        values[_EFFORT_AT] = {team: float(days) for team, days in values[_EFFORT_AT].items()}
        rows.append(IdeaRow(*values))
    return rows


# How each written column travels in a bulk insert. A Python list inside a list parameter
# would be read as a second array dimension, so list- and dict-valued columns travel as
# JSON text and are turned back into arrays or jsonb in SQL.
_JSON_COLUMNS = {"tags", "phases", "effort", "owner", "kpis"}
_FLOAT_COLUMNS = {
    "customer_impact", "reach", "confidence", "cost", "annual_benefit", "time_criticality", "risk_reduction",
}  # fmt: skip


def _bulk_type(column: str) -> str:
    return "float8" if column in _FLOAT_COLUMNS else "text"


def _bulk_select(column: str) -> str:
    if column in ("tags", "phases"):
        return f"ARRAY(SELECT jsonb_array_elements_text(t.{column}::jsonb))"
    if column in ("effort", "kpis"):
        return f"t.{column}::jsonb"
    if column == "owner":
        return "NULLIF(t.owner::jsonb, 'null'::jsonb)"  # no owner is SQL NULL, not JSON null
    return f"t.{column}"


def _bulk_values(column: str, values: Sequence[Any]) -> list[Any]:
    return [msgspec.json.encode(value).decode() for value in values] if column in _JSON_COLUMNS else list(values)


async def insert_ideas(conn: asyncpg.Connection, portfolio_id: UUID, rows: Sequence[tuple[Any, ...]]) -> list[IdeaRow]:
    """Insert many ideas in one statement; `rows` follow IDEA_WRITE_COLUMNS order."""
    if not rows:
        return []
    columns = list(zip(*rows, strict=True))
    arrays = ", ".join(f"${n + 2}::{_bulk_type(column)}[]" for n, column in enumerate(IDEA_WRITE_COLUMNS))
    records = await conn.fetch(
        f"""
        INSERT INTO scoring.ideas (portfolio_id, {", ".join(IDEA_WRITE_COLUMNS)})
        SELECT $1, {", ".join(_bulk_select(column) for column in IDEA_WRITE_COLUMNS)}
        FROM unnest({arrays}) WITH ORDINALITY AS t({", ".join(IDEA_WRITE_COLUMNS)}, position)
        ORDER BY t.position
        RETURNING {IDEA_COLUMNS}
        """,
        portfolio_id,
        *[_bulk_values(column, values) for column, values in zip(IDEA_WRITE_COLUMNS, columns, strict=True)],
    )
    return ideas_of(records)


async def update_idea(conn: asyncpg.Connection, portfolio_id: UUID, row: tuple[Any, ...]) -> IdeaRow | None:
    """Replace every writable field of the idea with ref `row[0]`."""
    assignments = ", ".join(f"{column} = ${n + 3}" for n, column in enumerate(IDEA_WRITE_COLUMNS[1:]))
    record = await conn.fetchrow(
        f"""
        UPDATE scoring.ideas SET {assignments}, updated_at = now()
        WHERE portfolio_id = $1 AND ref = $2
        RETURNING {IDEA_COLUMNS}
        """,
        portfolio_id,
        *row,
    )
    return one(record, IdeaRow)


async def get_idea(
    conn: asyncpg.Connection, portfolio_id: UUID, ref: str, *, for_update: bool = False
) -> IdeaRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(
        f"SELECT {IDEA_COLUMNS} FROM scoring.ideas WHERE portfolio_id = $1 AND ref = $2{lock}", portfolio_id, ref
    )
    return one(record, IdeaRow)


async def ideas_by_refs(conn: asyncpg.Connection, portfolio_id: UUID, refs: Sequence[str]) -> list[IdeaRow]:
    records = await conn.fetch(
        f"SELECT {IDEA_COLUMNS} FROM scoring.ideas WHERE portfolio_id = $1 AND ref = ANY($2::text[])",
        portfolio_id,
        list(refs),
    )
    return ideas_of(records)


async def existing_refs(conn: asyncpg.Connection, portfolio_id: UUID, refs: Sequence[str]) -> set[str]:
    records = await conn.fetch(
        "SELECT ref FROM scoring.ideas WHERE portfolio_id = $1 AND ref = ANY($2::text[])", portfolio_id, list(refs)
    )
    return {record["ref"] for record in records}


async def delete_idea(conn: asyncpg.Connection, portfolio_id: UUID, ref: str) -> bool:
    status = await conn.execute("DELETE FROM scoring.ideas WHERE portfolio_id = $1 AND ref = $2", portfolio_id, ref)
    return status.endswith(" 1")


async def all_ideas(conn: asyncpg.Connection, portfolio_id: UUID) -> list[IdeaRow]:
    records = await conn.fetch(
        f'SELECT {IDEA_COLUMNS} FROM scoring.ideas WHERE portfolio_id = $1 ORDER BY ref COLLATE "C"', portfolio_id
    )
    return ideas_of(records)
