"""Rows of the scoring schema turned into response bodies."""

from __future__ import annotations

import msgspec

from services.scoring.domain import PHASES
from services.scoring.quadrants import Thresholds, classify, effort_of
from services.scoring.rankings import RankingPage
from services.scoring.repository import PortfolioRow
from services.scoring.schemas import (
    DepartmentIn,
    IdeaScoreOut,
    KpiIn,
    ModelOut,
    ModelVersionOut,
    OwnerIn,
    PhaseOut,
    PortfolioOut,
    QuadrantThresholds,
    RankedIdea,
    RankingOut,
    ScoreSnapshot,
    SnapshotIdea,
)
from services.scoring.score_repository import ModelVersionRow, ScoreRow, SnapshotRow
from services.scoring.score_types import shown, shown_breakdown


def portfolio_out(row: PortfolioRow) -> PortfolioOut:
    return PortfolioOut(
        id=row.id,
        name=row.name,
        currency=row.currency,
        phases=[PhaseOut(key=key, label=row.phase_labels.get(key, key)) for key in PHASES],
        departments=msgspec.convert(row.departments, list[DepartmentIn]),
        idea_count=row.idea_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        review_every_days=row.review_every_days,
    )


def version_out(row: ModelVersionRow) -> ModelVersionOut:
    return ModelVersionOut(
        id=row.id, version=row.version, definition=row.definition, created_by=row.created_by, created_at=row.created_at
    )


def model_out(row: ModelVersionRow) -> ModelOut:
    return ModelOut(
        id=row.model_id,
        name=row.model_name,
        latest=version_out(row),
        versions=row.version_count,
        created_at=row.model_created_at,
    )


def score_out(version: ModelVersionRow, score: ScoreRow) -> IdeaScoreOut:
    return IdeaScoreOut(
        model_id=version.model_id,
        model_name=version.model_name,
        model_version=version.version,
        score=shown(score.score),
        breakdown=shown_breakdown(score.breakdown),
        missing=score.missing,
        reason=score.reason,
        insufficient_input=score.insufficient_input is not None,
        warning=score.insufficient_input,
    )


def ranking_out(result: RankingPage, *, page: int, page_size: int) -> RankingOut:
    version, limits = result.version, result.thresholds
    items = [
        RankedIdea(
            rank=row.position if row.score is not None else None,
            ref=row.ref,
            title=row.title,
            score=row.shown_score,
            # Stored as shown, as JSON (migration 0025): copied into the answer as it is.
            breakdown=msgspec.Raw(row.shown_breakdown),  # type: ignore[arg-type]
            missing=row.missing,
            reason=row.reason,
            persona=row.persona,
            journey_stage=row.journey_stage,
            touchpoint=row.touchpoint,
            stale=row.ref in result.stale,
            insufficient_input=row.insufficient_input is not None,
            warning=row.insufficient_input,
            disagreement=row.disagreement,
            quadrant=classify(row.score, effort_of(limits.effort_field, row.cost, row.effort), limits),
        )
        for row in result.rows
    ]
    return RankingOut(
        model_id=version.model_id,
        model_name=version.model_name,
        model_version=version.version,
        model_version_id=version.id,
        items=items,
        total=result.scored + result.unscored,
        scored=result.scored,
        unscored=result.unscored,
        page=page,
        page_size=page_size,
        next_cursor=result.next_cursor,
        quadrants=QuadrantThresholds(
            value=limits.value,
            effort=limits.effort,
            effort_field=limits.effort_field,
            from_median=list(limits.from_median),
        ),
    )


def snapshot_out(
    portfolio: PortfolioRow,
    version: ModelVersionRow,
    rows: list[SnapshotRow],
    limits: Thresholds,
    *,
    stale: frozenset[str] = frozenset(),
) -> ScoreSnapshot:
    return ScoreSnapshot(
        portfolio_id=portfolio.id,
        currency=portfolio.currency,
        model_id=version.model_id,
        model_name=version.model_name,
        model_version=version.version,
        model_version_id=version.id,
        ideas=[_snapshot_idea(row, limits, stale=row.ref in stale) for row in rows],
    )


def _snapshot_idea(row: SnapshotRow, limits: Thresholds, *, stale: bool) -> SnapshotIdea:
    fields = msgspec.structs.asdict(row)
    fields["stale"] = stale
    fields["owner"] = None if row.owner is None else msgspec.convert(row.owner, OwnerIn)
    fields["kpis"] = msgspec.convert(row.kpis, list[KpiIn])
    fields["insufficient_input"] = row.insufficient_input is not None
    total_effort = sum(row.effort.values()) if row.effort else None
    fields["quadrant"] = classify(row.score, effort_of(limits.effort_field, row.cost, total_effort), limits)
    return SnapshotIdea(**fields)
