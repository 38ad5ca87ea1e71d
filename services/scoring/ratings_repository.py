"""SQL of stakeholder ratings and portfolio departments. Connection first; no transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.scoring.repository import many


class RatingRow(msgspec.Struct, frozen=True):
    idea_id: UUID
    criterion: str
    subject: str
    department: str
    value: float
    comment: str
    rated_at: datetime


_COLUMNS = "idea_id, criterion, subject, department, value, comment, rated_at"


async def departments_of(conn: asyncpg.Connection, portfolio_id: UUID) -> list[dict[str, Any]]:
    return await conn.fetchval("SELECT departments FROM scoring.portfolios WHERE id = $1", portfolio_id) or []


async def set_departments(conn: asyncpg.Connection, portfolio_id: UUID, departments: list[dict[str, Any]]) -> None:
    await conn.execute(
        "UPDATE scoring.portfolios SET departments = $2, updated_at = now() WHERE id = $1", portfolio_id, departments
    )


async def upsert_rating(
    conn: asyncpg.Connection,
    *,
    portfolio_id: UUID,
    idea_id: UUID,
    criterion: str,
    subject: str,
    department: str,
    value: float,
    comment: str,
) -> bool:
    """Store a subject's rating, replacing its earlier one; True when it is new."""
    return await conn.fetchval(
        """
        INSERT INTO scoring.ratings (idea_id, portfolio_id, criterion, subject, department, value, comment)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (idea_id, criterion, subject) DO UPDATE
        SET department = excluded.department, value = excluded.value, comment = excluded.comment, rated_at = now()
        RETURNING (xmax = 0)
        """,
        idea_id,
        portfolio_id,
        criterion,
        subject,
        department,
        value,
        comment,
    )


async def delete_rating(conn: asyncpg.Connection, *, idea_id: UUID, criterion: str, subject: str) -> bool:
    status = await conn.execute(
        "DELETE FROM scoring.ratings WHERE idea_id = $1 AND criterion = $2 AND subject = $3",
        idea_id,
        criterion,
        subject,
    )
    return status.endswith(" 1")


async def ratings_of(conn: asyncpg.Connection, idea_ids: Sequence[UUID]) -> list[RatingRow]:
    """The ratings of the given ideas, by idea, criterion, department and subject."""
    if not idea_ids:
        return []
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM scoring.ratings WHERE idea_id = ANY($1::uuid[])
        ORDER BY idea_id, criterion, department, subject
        """,
        list(idea_ids),
    )
    return many(records, RatingRow)


async def rated_ideas(conn: asyncpg.Connection, portfolio_id: UUID) -> list[UUID]:
    """The ideas of the portfolio that have at least one rating."""
    records = await conn.fetch("SELECT DISTINCT idea_id FROM scoring.ratings WHERE portfolio_id = $1", portfolio_id)
    return [record["idea_id"] for record in records]
