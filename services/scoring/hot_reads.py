"""The two reads most traffic is made of, a ranking page and a filtered ideas page, answered as
encoded JSON, from the read cache when nothing they show has changed (issue 14).

Each starts with the statement every hot read starts with (read_start.py): the caller's roles
on the portfolio, checked every time, and the portfolio's read generation. If the cache holds
this page encoded at that generation, and no estimate it shows as fresh has gone stale since,
its bytes are the answer: one statement in all. Otherwise the page is read, built, encoded and
kept, as before (two statements; three for a ranking page kept before a change).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from services.kit.auth import Caller
from services.kit.observability import READ_CACHE
from services.kit.read_cache import ReadCache, earliest_fresh
from services.scoring import rankings, service
from services.scoring.backlog_views import IdeaFilter
from services.scoring.mapping import stale_idea_out
from services.scoring.presenters import ranking_out
from services.scoring.read_start import start_read
from services.scoring.schemas import IdeaPage

_RANKING_KEPT, _RANKING_READ = READ_CACHE.labels("ranking", "hit"), READ_CACHE.labels("ranking", "miss")
_IDEAS_KEPT, _IDEAS_READ = READ_CACHE.labels("ideas", "hit"), READ_CACHE.labels("ideas", "miss")
# The response structs hold only types msgspec encodes natively, so this gives the bytes
# Litestar's own encoder would (tests/unit/kit/test_read_cache_rules.py compares them).
_encode = msgspec.json.Encoder().encode


async def ranking_body(
    conn: asyncpg.Connection,
    caller: Caller,
    portfolio_id: UUID,
    model_id: UUID,
    *,
    version: int | None,
    page: int,
    page_size: int,
    cursor: str | None,
    sort: str,
    quadrant: str | None,
    now: datetime,
    cache: ReadCache,
) -> bytes:
    """A page of the ranking (rankings.ranking), as the JSON of its RankingOut.

    With a page kept for these parameters, the first statement leaves the model out: which
    version is the latest, and whether the model exists at all, change only with the
    generation. If the kept page is out of date, the page is read as when none is kept, after
    that first statement: three statements, once after each change.
    """
    # `version` None is the latest: a new version, like a deleted model, moves the generation.
    key = ("ranking", portfolio_id, model_id, version, page, page_size, cursor, sort, quadrant)
    if key in cache:
        probe = await start_read(conn, caller, portfolio_id, now=now)
        body = cache.get(key, generation=probe.generation, cutoff=probe.cutoff)
        if body is not None:
            _RANKING_KEPT.inc()
            return body
    _RANKING_READ.inc()
    started = await start_read(conn, caller, portfolio_id, now=now, model_id=model_id, version=version)
    result = await rankings.page_of(
        conn, started, page=page, page_size=page_size, cursor=cursor, sort=sort, quadrant=quadrant
    )
    body = _encode(ranking_out(result, page=page, page_size=page_size))
    fresh_since = rankings.earliest_fresh_estimate(result.rows, started.cutoff)
    cache.put(key, body, generation=started.generation, fresh_since=fresh_since)
    return body


async def ideas_body(
    conn: asyncpg.Connection,
    caller: Caller,
    portfolio_id: UUID,
    filters: IdeaFilter,
    *,
    page: int,
    page_size: int,
    now: datetime,
    cache: ReadCache,
) -> bytes:
    """A page of the backlog (service.list_ideas), as the JSON of its IdeaPage."""
    started = await start_read(conn, caller, portfolio_id, now=now)
    # Filtered by staleness, which ideas match moves with the clock: such pages are not kept.
    keep = filters.stale is None
    key = ("ideas", portfolio_id, filters, page, page_size)
    body = cache.get(key, generation=started.generation, cutoff=started.cutoff) if keep else None
    (_IDEAS_READ if body is None else _IDEAS_KEPT).inc()
    if body is None:
        rows, total = await service.ideas_page_of(conn, started, portfolio_id, filters, page=page, page_size=page_size)
        items = [stale_idea_out(row, started.cutoff) for row in rows]
        body = _encode(IdeaPage(items=items, total=total, page=page, page_size=page_size))
        if keep:
            fresh_since = earliest_fresh([row.estimated_at for row in rows], started.cutoff)
            cache.put(key, body, generation=started.generation, fresh_since=fresh_since)
    return body
