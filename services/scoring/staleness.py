"""Review cadences: which estimates are stale, when they became so, and when the map was reviewed.

A portfolio reviews its backlog every `reviewEveryDays`; an idea whose estimates are older is
stale. That is computed against the injected clock wherever it is shown (the ideas list, the
ranking, the snapshot a scenario takes), and recorded by the periodic review check
(`mark_stale`, run by the `scoring.review_staleness` job), which stamps `staleSince` and tells
the portfolio's subscribers (`ideas.stale`). A new estimate clears it (history.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access import service as access
from services.kit.access.rights import PLAN, READ
from services.kit.auth import Caller
from services.kit.events.service import emit
from services.kit.problems import FieldProblem, InvalidInput, NotFound
from services.scoring.review_rules import stale_cutoff

ReviewedFacet = Literal["persona", "journey_stage", "touchpoint"]
REVIEWED_FACETS: tuple[ReviewedFacet, ...] = ("persona", "journey_stage", "touchpoint")


async def set_cadence(conn: asyncpg.Connection, portfolio_id: UUID, review_every_days: int) -> None:
    await conn.execute(
        "UPDATE scoring.portfolios SET review_every_days = $2, updated_at = now() WHERE id = $1",
        portfolio_id,
        review_every_days,
    )


async def cutoff_for(conn: asyncpg.Connection, portfolio_id: UUID, now: datetime) -> datetime | None:
    """Estimates of the portfolio made before this are stale now; None if there is no such portfolio.

    Call it after (or together with) the use case that checks the caller's access.
    """
    days = await conn.fetchval("SELECT review_every_days FROM scoring.portfolios WHERE id = $1", portfolio_id)
    return None if days is None else stale_cutoff(now, days)


async def stale_refs(
    conn: asyncpg.Connection, portfolio_id: UUID, refs: Sequence[str], now: datetime
) -> frozenset[str]:
    """Which of `refs` have stale estimates now."""
    cutoff = await cutoff_for(conn, portfolio_id, now)
    if cutoff is None or not refs:
        return frozenset()
    records = await conn.fetch(
        "SELECT ref FROM scoring.ideas WHERE portfolio_id = $1 AND ref = ANY($2::text[]) AND estimated_at < $3",
        portfolio_id,
        list(refs),
        cutoff,
    )
    return frozenset(record["ref"] for record in records)


class BecameStale(msgspec.Struct, frozen=True):
    portfolio_id: UUID
    refs: list[str]
    review_every_days: int


async def mark_stale(conn: asyncpg.Connection, *, now: datetime) -> list[BecameStale]:
    """Record, in every portfolio, the ideas that became stale since the last check, and tell subscribers.

    An idea became stale when its estimate got older than the cadence (`estimatedAt +
    reviewEveryDays`): that moment is recorded, whenever the check runs, so a check that ran
    late or twice records the same. Run it in a transaction: the events go with the stamps.
    """
    records = await conn.fetch(
        """
        UPDATE scoring.ideas i SET stale_since = i.estimated_at + make_interval(days => p.review_every_days)
        FROM scoring.portfolios p
        WHERE p.id = i.portfolio_id AND i.stale_since IS NULL
          AND i.estimated_at + make_interval(days => p.review_every_days) <= $1
        RETURNING i.portfolio_id, i.ref, p.review_every_days
        """,
        now,
    )
    found: dict[UUID, BecameStale] = {}
    for record in records:
        entry = found.setdefault(
            record["portfolio_id"], BecameStale(record["portfolio_id"], [], record["review_every_days"])
        )
        entry.refs.append(record["ref"])
    for entry in found.values():
        entry.refs.sort()
        data = {"ideas": entry.refs, "count": len(entry.refs), "reviewEveryDays": entry.review_every_days}
        await emit(conn, "ideas.stale", portfolio_id=entry.portfolio_id, subject="ideas", data=data, at=now)
    return list(found.values())


# --- reviews of the journey map ---------------------------------------------------------


class JourneyReviewRow(msgspec.Struct, frozen=True):
    facet: str
    value: str
    reviewed_at: datetime
    reviewed_by: str


async def journey_reviews(conn: asyncpg.Connection, portfolio_id: UUID) -> dict[tuple[str, str], JourneyReviewRow]:
    """When each persona, journey stage and touchpoint of the map was last reviewed, by (facet, value)."""
    records = await conn.fetch(
        "SELECT facet, value, reviewed_at, reviewed_by FROM scoring.journey_reviews WHERE portfolio_id = $1",
        portfolio_id,
    )
    rows = [msgspec.convert(dict(record), JourneyReviewRow) for record in records]
    return {(row.facet, row.value): row for row in rows}


async def review_journey_value(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, *, facet: ReviewedFacet, value: str, at: datetime
) -> JourneyReviewRow:
    """Record that a persona, journey stage or touchpoint of the map was looked at and still holds."""
    await access.require_access(conn, caller, portfolio_id, PLAN)
    column = {"persona": "persona", "journey_stage": "journey_stage", "touchpoint": "touchpoint"}[facet]
    used = await conn.fetchval(
        f"SELECT true FROM scoring.ideas WHERE portfolio_id = $1 AND {column} = $2 LIMIT 1", portfolio_id, value
    )
    if not used:
        message = f"no idea of this portfolio has the {facet.replace('_', ' ')} {value!r}"
        raise InvalidInput(f"value: {message}", errors=[FieldProblem(field="value", message=message)])
    record = await conn.fetchrow(
        """
        INSERT INTO scoring.journey_reviews (portfolio_id, facet, value, reviewed_at, reviewed_by)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (portfolio_id, facet, value) DO UPDATE
            SET reviewed_at = EXCLUDED.reviewed_at, reviewed_by = EXCLUDED.reviewed_by
        RETURNING facet, value, reviewed_at, reviewed_by
        """,
        portfolio_id,
        facet,
        value,
        at,
        caller.subject,
    )
    return msgspec.convert(dict(record), JourneyReviewRow)


async def readable_cutoff(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, now: datetime) -> datetime:
    """The portfolio's staleness cutoff now, for a caller who may read it."""
    await access.require_access(conn, caller, portfolio_id, READ)
    cutoff = await cutoff_for(conn, portfolio_id, now)
    if cutoff is None:
        raise NotFound(f"There is no portfolio {portfolio_id}.")
    return cutoff
