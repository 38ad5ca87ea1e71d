"""The ranking use case: pages of a portfolio's ideas by score, by number or by cursor."""

from __future__ import annotations

import base64
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from services.kit.auth import Caller
from services.kit.clock import system_clock
from services.kit.problems import FieldProblem, InvalidInput
from services.scoring import ranking_repository, ranking_views, score_figures
from services.scoring.quadrants import Thresholds
from services.scoring.ranking_repository import RankedRow, RankingKey, RankingVersion
from services.scoring.read_start import Started, start_read
from services.scoring.review_rules import from_micros, micros


class RankingPage(msgspec.Struct, frozen=True):
    version: RankingVersion
    rows: list[RankedRow]
    scored: int
    unscored: int
    next_cursor: str | None
    thresholds: Thresholds
    stale: frozenset[str] = frozenset()


class _Cursor(msgspec.Struct, frozen=True, array_like=True):
    """Where the next page starts, and the totals and thresholds the first page showed: every
    page of a walk shows the same ones, even if scores change during it."""

    version_id: UUID
    after: RankingKey
    scored: int
    unscored: int
    thresholds: Thresholds


def _encode(cursor: _Cursor) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode().rstrip("=")


def _decode(version_id: UUID, text: str) -> _Cursor:
    problem = InvalidInput(
        "The cursor is not one this ranking gave out.",
        errors=[FieldProblem(field="query.cursor", message="unknown or expired cursor")],
    )
    try:
        cursor = msgspec.json.decode(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), type=_Cursor)
    except (ValueError, msgspec.DecodeError):
        raise problem from None
    if cursor.version_id != version_id:
        raise problem
    return cursor


async def ranking(
    conn: asyncpg.Connection,
    caller: Caller,
    portfolio_id: UUID,
    model_id: UUID,
    *,
    version: int | None,
    page: int,
    page_size: int,
    cursor: str | None = None,
    now: datetime | None = None,
    sort: str = "score",
    quadrant: str | None = None,
) -> RankingPage:
    """One page of the portfolio's ranking under a model version (the latest by default).

    A page is chosen by number, or by the `nextCursor` of the page before it, which costs the
    same however deep the ranking goes. One row more than the page is read, to know whether
    another page follows. Sorted by disagreement or filtered to a quadrant, the ranking is paged
    by number only.
    """
    started = await start_read(
        conn, caller, portfolio_id, now=now or system_clock(), model_id=model_id, version=version
    )
    return await page_of(conn, started, page=page, page_size=page_size, cursor=cursor, sort=sort, quadrant=quadrant)


async def page_of(
    conn: asyncpg.Connection,
    started: Started,
    *,
    page: int,
    page_size: int,
    cursor: str | None = None,
    sort: str = "score",
    quadrant: str | None = None,
) -> RankingPage:
    """The page of the ranking `started` found the caller may read (see `ranking`)."""
    row = started.version
    assert row is not None  # start_read refuses a model that does not exist
    if sort != "score" or quadrant is not None:
        if cursor is not None:
            message = "a cursor pages the score order of every idea; page a sorted or filtered view by number"
            raise InvalidInput(message, errors=[FieldProblem(field="query.cursor", message=message)])
        scored, unscored = started.figures.scored, started.figures.unscored
        limits = score_figures.thresholds(row.definition, started.figures)
        rows, total = await ranking_views.view_page(
            conn, row.id, sort=sort, quadrant=quadrant, limits=limits, limit=page_size, offset=(page - 1) * page_size
        )
        if quadrant is not None:
            scored, unscored = total, 0  # a quadrant holds scored ideas only
        return RankingPage(
            version=row, rows=rows, scored=scored, unscored=unscored, next_cursor=None, thresholds=limits,
            stale=_stale(rows, started.cutoff),
        )  # fmt: skip
    if cursor is not None:
        # The totals and thresholds were counted when the walk started, and travel in the cursor.
        walk = _decode(row.id, cursor)
        rows = await ranking_repository.ranking_after(
            conn, row.id, after=walk.after, limit=page_size + 1, scored=walk.scored
        )
        scored, unscored, limits = walk.scored, walk.unscored, walk.thresholds
    else:
        rows = await ranking_repository.ranking_page(conn, row.id, limit=page_size + 1, offset=(page - 1) * page_size)
        # Stored with the scores and read with the model version: a page counts nothing.
        scored, unscored = started.figures.scored, started.figures.unscored
        limits = score_figures.thresholds(row.definition, started.figures)
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        after = RankingKey(score=last.score, ref=last.ref, position=last.position)
        state = _Cursor(version_id=row.id, after=after, scored=scored, unscored=unscored, thresholds=limits)
        next_cursor = _encode(state)
    return RankingPage(
        version=row, rows=rows, scored=scored, unscored=unscored, next_cursor=next_cursor, thresholds=limits,
        stale=_stale(rows, started.cutoff),
    )  # fmt: skip


def _stale(rows: list[RankedRow], cutoff: datetime | None) -> frozenset[str]:
    """The refs on the page whose estimates are older than the cutoff (read with the page)."""
    if cutoff is None:
        return frozenset()
    limit = micros(cutoff)
    return frozenset(r.ref for r in rows if r.estimated_us is not None and r.estimated_us < limit)


def earliest_fresh_estimate(rows: list[RankedRow], cutoff: datetime | None) -> datetime | None:
    """The earliest estimate on the page not stale at `cutoff` (see kit/read_cache.earliest_fresh)."""
    if cutoff is None:
        return None
    limit = micros(cutoff)
    fresh = [r.estimated_us for r in rows if r.estimated_us is not None and r.estimated_us >= limit]
    return from_micros(min(fresh)) if fresh else None
