"""SQL of scoring models, their versions and the stored scores. Connection first; no transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.scoring.formulas import Contribution
from services.scoring.repository import many, one
from services.scoring.score_types import shown_all, shown_breakdown_json


class ModelVersionRow(msgspec.Struct, frozen=True):
    id: UUID
    model_id: UUID
    model_name: str
    version: int
    definition: dict[str, Any]
    created_by: str
    created_at: datetime
    model_created_at: datetime
    version_count: int


class ScoreRow(msgspec.Struct, frozen=True):
    idea_id: UUID
    score: float | None
    breakdown: list[Contribution]
    missing: list[str]
    reason: str | None
    insufficient_input: str | None = None


# --- scoring models ---------------------------------------------------------------------

_VERSION_COLUMNS = """
    v.id, v.model_id, m.name AS model_name, v.version, v.definition, v.created_by, v.created_at,
    m.created_at AS model_created_at,
    (SELECT count(*) FROM scoring.model_versions c WHERE c.model_id = m.id) AS version_count
"""


async def insert_model(conn: asyncpg.Connection, portfolio_id: UUID, *, name: str) -> UUID:
    return await conn.fetchval(
        "INSERT INTO scoring.models (portfolio_id, name) VALUES ($1, $2) RETURNING id", portfolio_id, name
    )


async def insert_model_version(
    conn: asyncpg.Connection, model_id: UUID, *, definition: dict[str, Any], created_by: str
) -> UUID:
    # The model row is locked first, so two concurrent edits get consecutive version numbers.
    await conn.execute("SELECT 1 FROM scoring.models WHERE id = $1 FOR UPDATE", model_id)
    return await conn.fetchval(
        """
        INSERT INTO scoring.model_versions (model_id, version, definition, created_by)
        SELECT $1, coalesce(max(version), 0) + 1, $2, $3 FROM scoring.model_versions WHERE model_id = $1
        RETURNING id
        """,
        model_id,
        definition,
        created_by,
    )


async def get_model_version(
    conn: asyncpg.Connection, portfolio_id: UUID, model_id: UUID, *, version: int | None = None
) -> ModelVersionRow | None:
    """A version of a model (the latest when `version` is None)."""
    record = await conn.fetchrow(
        f"""
        SELECT {_VERSION_COLUMNS}
        FROM scoring.models m JOIN scoring.model_versions v ON v.model_id = m.id
        WHERE m.portfolio_id = $1 AND m.id = $2 AND ($3::int IS NULL OR v.version = $3)
        ORDER BY v.version DESC LIMIT 1
        """,
        portfolio_id,
        model_id,
        version,
    )
    return one(record, ModelVersionRow)


async def list_latest_model_versions(conn: asyncpg.Connection, portfolio_id: UUID) -> list[ModelVersionRow]:
    records = await conn.fetch(
        f"""
        SELECT DISTINCT ON (m.created_at, m.name, m.id) {_VERSION_COLUMNS}
        FROM scoring.models m JOIN scoring.model_versions v ON v.model_id = m.id
        WHERE m.portfolio_id = $1
        ORDER BY m.created_at, m.name, m.id, v.version DESC
        """,
        portfolio_id,
    )
    return many(records, ModelVersionRow)


async def list_model_versions(conn: asyncpg.Connection, portfolio_id: UUID, model_id: UUID) -> list[ModelVersionRow]:
    records = await conn.fetch(
        f"""
        SELECT {_VERSION_COLUMNS}
        FROM scoring.models m JOIN scoring.model_versions v ON v.model_id = m.id
        WHERE m.portfolio_id = $1 AND m.id = $2 ORDER BY v.version
        """,
        portfolio_id,
        model_id,
    )
    return many(records, ModelVersionRow)


async def all_model_versions(conn: asyncpg.Connection, portfolio_id: UUID) -> list[ModelVersionRow]:
    """Every version of every model of the portfolio: each keeps its scores current."""
    records = await conn.fetch(
        f"""
        SELECT {_VERSION_COLUMNS}
        FROM scoring.models m JOIN scoring.model_versions v ON v.model_id = m.id
        WHERE m.portfolio_id = $1 ORDER BY m.created_at, m.name, v.version
        """,
        portfolio_id,
    )
    return many(records, ModelVersionRow)


async def delete_model(conn: asyncpg.Connection, portfolio_id: UUID, model_id: UUID) -> bool:
    status = await conn.execute(
        "DELETE FROM scoring.models WHERE portfolio_id = $1 AND id = $2", portfolio_id, model_id
    )
    return status.endswith(" 1")


# --- scores -----------------------------------------------------------------------------


async def upsert_scores(
    conn: asyncpg.Connection,
    model_version_id: UUID,
    scores: Sequence[tuple[Any, ...]],
) -> None:
    """Store (idea id, ref, score, breakdown, missing, reason, insufficient input, disagreement,
    effort, cost) for one model version.

    Each row also gets its breakdown as answers show it, and copies of what a ranking page shows
    of the idea, read from the idea in this statement (migration 0025; a trigger on the ideas
    carries their later changes).
    """
    if not scores:
        return
    idea_ids, refs, values, breakdowns, missing, reasons, insufficient, disagreement, effort, cost = zip(
        *scores, strict=True
    )
    stored = [msgspec.json.encode(breakdown).decode() for breakdown in breakdowns]
    await conn.execute(
        """
        INSERT INTO scoring.scores
            (model_version_id, idea_id, ref, score, shown_score, breakdown, shown_breakdown, missing, reason, insufficient_input,
             disagreement, effort, cost, title, persona, journey_stage, touchpoint, estimated_us)
        SELECT $1, s.idea_id, s.ref, s.score, s.shown_score, s.breakdown::jsonb, s.shown,
               ARRAY(SELECT jsonb_array_elements_text(s.missing::jsonb)), s.reason, s.insufficient, s.disagreement,
               s.effort, s.cost, i.title, i.persona, i.journey_stage, i.touchpoint,
               (extract(epoch FROM i.estimated_at) * 1000000)::bigint
        FROM unnest($2::uuid[], $3::text[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[],
                    $10::float8[], $11::float8[], $12::text[], $13::float8[])
             AS s(idea_id, ref, score, breakdown, missing, reason, insufficient, disagreement, effort, cost, shown,
                  shown_score)
        JOIN scoring.ideas i ON i.id = s.idea_id
        ON CONFLICT (model_version_id, idea_id) DO UPDATE
        SET score = excluded.score, shown_score = excluded.shown_score, breakdown = excluded.breakdown, shown_breakdown = excluded.shown_breakdown,
            missing = excluded.missing, reason = excluded.reason, insufficient_input = excluded.insufficient_input,
            disagreement = excluded.disagreement, effort = excluded.effort, cost = excluded.cost,
            title = excluded.title, persona = excluded.persona, journey_stage = excluded.journey_stage,
            touchpoint = excluded.touchpoint, estimated_us = excluded.estimated_us
        """,
        model_version_id,
        list(idea_ids),
        list(refs),
        list(values),
        stored,
        [msgspec.json.encode(names).decode() for names in missing],
        list(reasons),
        list(insufficient),
        list(disagreement),
        list(effort),
        list(cost),
        [shown_breakdown_json(breakdown) for breakdown in stored],
        shown_all(list(values)),
    )


async def scores_of_idea(conn: asyncpg.Connection, idea_id: UUID) -> list[tuple[ModelVersionRow, ScoreRow]]:
    records = await conn.fetch(
        f"""
        SELECT {_VERSION_COLUMNS}, s.idea_id, s.score, s.breakdown, s.missing, s.reason, s.insufficient_input
        FROM scoring.scores s
        JOIN scoring.model_versions v ON v.id = s.model_version_id
        JOIN scoring.models m ON m.id = v.model_id
        WHERE s.idea_id = $1
        ORDER BY m.created_at, m.name, m.id, v.version
        """,
        idea_id,
    )
    return [
        (msgspec.convert(dict(record), ModelVersionRow), msgspec.convert(dict(record), ScoreRow)) for record in records
    ]


class SnapshotRow(msgspec.Struct, frozen=True):
    ref: str
    title: str
    score: float | None
    breakdown: list[Contribution]
    missing: list[str]
    reason: str | None
    cost: float | None
    effort: dict[str, float]
    phases: list[str]
    persona: str | None
    journey_stage: str | None
    touchpoint: str | None
    channel: str | None
    department: str | None
    pain_point: str | None
    tags: list[str]
    owner: dict[str, Any] | None = None
    kpis: list[dict[str, Any]] = []
    insufficient_input: str | None = None


async def snapshot(conn: asyncpg.Connection, model_version_id: UUID) -> list[SnapshotRow]:
    """Every idea scored under a version, with what an optimiser needs to plan it, in ref order."""
    records = await conn.fetch(
        """
        SELECT s.ref, i.title, s.score, s.breakdown, s.missing, s.reason, i.cost, i.effort, i.phases,
               i.persona, i.journey_stage, i.touchpoint, i.channel, i.department, i.pain_point, i.tags,
               i.owner, i.kpis, s.insufficient_input
        FROM scoring.scores s JOIN scoring.ideas i ON i.id = s.idea_id
        WHERE s.model_version_id = $1
        ORDER BY s.ref
        """,
        model_version_id,
    )
    return many(records, SnapshotRow)
