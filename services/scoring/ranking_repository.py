"""SQL of the hot reads: a ranking's pages and the first statement every hot read starts with.
Connection first; no transactions (issue 14)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access.repository import caller_roles_sql
from services.scoring.repository import page_bounds
from services.scoring.score_figures import FIGURE_COLUMNS, NO_FIGURES, ScoreFigures, of_record


class RankingVersion(msgspec.Struct, frozen=True):
    """What a ranking page shows of its model version, read with the hot read's first statement.
    The definition comes as text and is decoded only when the page is read afresh: a page
    served from the read cache needs none of it (issue 14)."""

    id: UUID
    model_id: UUID
    model_name: str
    version: int
    definition_text: str

    @property
    def definition(self) -> dict[str, Any]:
        return msgspec.json.decode(self.definition_text)


class RankedRow(msgspec.Struct, frozen=True, gc=False):
    """A row of a ranking page: RANKED_COLUMNS in their order, then its position (1-based).

    Untracked by the garbage collector: a page builds a thousand, which set off collections
    otherwise. Its one list holds strings: it is in no cycle.
    """

    ref: str
    title: str
    persona: str | None
    journey_stage: str | None
    touchpoint: str | None
    score: float | None
    # The score as answers show it, and the breakdown so, as JSON text (migration 0025).
    shown_score: float | None
    shown_breakdown: str
    missing: list[str]
    reason: str | None
    insufficient_input: str | None
    disagreement: float | None
    cost: float | None
    effort: float | None
    # When its estimates were made, in microseconds since the Unix epoch (review_rules.micros):
    # the page says which are stale without asking again.
    estimated_us: int | None
    position: int


_RANKING_VERSION_COLUMNS = "v.id, v.model_id, m.name AS model_name, v.version, v.definition::text AS definition_text"


class ReadStart(msgspec.Struct, frozen=True):
    """What a hot read of a portfolio learns in its first statement."""

    roles: list[str]
    review_every_days: int | None
    version: RankingVersion | None
    figures: ScoreFigures = NO_FIGURES
    # Moved by every committed change a hot read shows (migration 0024); 0 before the first.
    generation: int = 0


async def read_start(
    conn: asyncpg.Connection,
    portfolio_id: UUID,
    *,
    subject: str,
    groups: list[str],
    model_id: UUID | None = None,
    version: int | None = None,
) -> ReadStart | None:
    """The caller's roles on the portfolio, its review cadence and, given `model_id`, that model's
    version (the latest when `version` is None) with its stored figures, in one statement; None if
    there is no such portfolio.

    A page read then needs one statement more: the membership check, the model version and its
    totals and medians cost no round trip of their own (issue 14).
    """
    roles = caller_roles_sql("p.id", subject="$2", groups="$3")
    model_join, model_params = "", []
    if model_id is not None:
        model_join = f"""
        LEFT JOIN LATERAL (
            SELECT {_RANKING_VERSION_COLUMNS}, {FIGURE_COLUMNS}
            FROM scoring.models m JOIN scoring.model_versions v ON v.model_id = m.id
            LEFT JOIN scoring.score_figures f ON f.model_version_id = v.id
            WHERE m.portfolio_id = p.id AND m.id = $4 AND ($5::int IS NULL OR v.version = $5)
            ORDER BY v.version DESC LIMIT 1
        ) mv ON true"""
        model_params = [model_id, version]
    record = await conn.fetchrow(
        f"""
        SELECT {roles} AS caller_roles, sp.review_every_days,
               coalesce((SELECT g.generation FROM scoring.read_generations g WHERE g.portfolio_id = p.id), 0)
                   AS read_generation{", mv.*" if model_id is not None else ""}
        FROM access.portfolios p LEFT JOIN scoring.portfolios sp ON sp.id = p.id{model_join}
        WHERE p.id = $1
        """,
        portfolio_id,
        subject,
        groups,
        *model_params,
    )
    if record is None:
        return None
    roles, days, generation = list(record["caller_roles"]), record["review_every_days"], record["read_generation"]
    if model_id is None or record["id"] is None:
        return ReadStart(roles, days, None, generation=generation)
    found = RankingVersion(
        record["id"], record["model_id"], record["model_name"], record["version"], record["definition_text"]
    )
    return ReadStart(roles, days, found, of_record(record), generation)


class RankingKey(msgspec.Struct, frozen=True, array_like=True):
    """Where a ranking page ends: the last row's score, ref and position (1-based)."""

    score: float | None
    ref: str
    position: int


# A score row holds all a page shows of its idea (migration 0025): a page reads one range of the
# `scores_ranking` index and no other table. `-score` ascending is `score` descending with
# unscored ideas (NULL) last; with the ref it is the index's order, so a page never sorts.
RANKED_COLUMNS = """
    s.ref, s.title, s.persona, s.journey_stage, s.touchpoint, s.score, s.shown_score, s.shown_breakdown, s.missing,
    s.reason, s.insufficient_input, s.disagreement, s.cost, s.effort, s.estimated_us
"""
RANKED_FROM = "FROM scoring.scores s WHERE s.model_version_id = $1"


async def ranking_page(conn: asyncpg.Connection, model_version_id: UUID, *, limit: int, offset: int) -> list[RankedRow]:
    """The ranking from position `offset + 1`: score descending, then ref in byte order."""
    records = await conn.fetch(
        f"SELECT {RANKED_COLUMNS} {RANKED_FROM} ORDER BY -s.score, s.ref{page_bounds(limit, offset)}",
        model_version_id,
    )
    return positioned(records, first=offset + 1)


def _unscored_after(ref: str, limit: int) -> str:
    # Same order as the index (`-score` is NULL for all of them), so the range is read, not sorted.
    # Written as `(-s.score) IS NULL`, the index's own expression, the test is an index condition:
    # `s.score IS NULL` made PostgreSQL scan every score of the table on each cursor page.
    return (
        f"SELECT {RANKED_COLUMNS} {RANKED_FROM} AND (-s.score) IS NULL AND s.ref > {ref} "
        f"ORDER BY -s.score, s.ref{page_bounds(limit)}"
    )


def _scored_after(limit: int) -> str:
    return (
        f"SELECT {RANKED_COLUMNS} {RANKED_FROM} AND (-s.score, s.ref) > (-$3::float8, $2::text) "
        f"ORDER BY -s.score, s.ref{page_bounds(limit)}"
    )


async def ranking_after(
    conn: asyncpg.Connection, model_version_id: UUID, *, after: RankingKey, limit: int, scored: int
) -> list[RankedRow]:
    """The ranking after `after` (keyset pagination: each page costs the same, however deep).

    Unscored ideas come after every scored one, in ref order. A page that may cross from the
    one to the other, as `scored` (the count the walk started with) tells, reads both ranges
    of the index in the same statement, which then sorts them. Any other page reads one range
    in index order: no sort, about half the statement's time on a page of 1,000. If it comes
    back short all the same (fewer ideas are scored than when the walk started), a second
    statement reads the unscored ones that follow.
    """
    first = after.position + 1
    if after.score is None:
        records = await conn.fetch(_unscored_after("$2::text", limit), model_version_id, after.ref)
        return positioned(records, first=first)
    if after.position + limit <= scored:
        records = await conn.fetch(_scored_after(limit), model_version_id, after.ref, after.score)
        if len(records) == limit:
            return positioned(records, first=first)
        more = await conn.fetch(_unscored_after("''", limit - len(records)), model_version_id)
        return positioned([*records, *more], first=first)
    records = await conn.fetch(
        f"""
        SELECT * FROM (({_scored_after(limit)}) UNION ALL ({_unscored_after("''", limit)})) page
        ORDER BY -page.score, page.ref{page_bounds(limit)}
        """,
        model_version_id,
        after.ref,
        after.score,
    )
    return positioned(records, first=first)


def positioned(records: Sequence[asyncpg.Record], *, first: int) -> list[RankedRow]:
    """Rows of RANKED_COLUMNS, numbered from `first`."""
    return [RankedRow(*record, first + index) for index, record in enumerate(records)]
