"""Rows of the roadmap schema turned into response bodies."""

from __future__ import annotations

from services.roadmap.scenarios import idea_rows
from services.roadmap.scenarios.domain import teams_left_out
from services.roadmap.scenarios.repository import RunRow, ScenarioRow
from services.roadmap.scenarios.schemas import (
    RunOut,
    RunSummary,
    ScenarioOut,
    SkippedOut,
    StaleEstimatesOut,
    TeamLeftOutOut,
)
from services.roadmap.scenarios.service import document_of


def scenario_out(row: ScenarioRow) -> ScenarioOut:
    document = document_of(row)
    return ScenarioOut(
        id=row.id,
        portfolio_id=row.portfolio_id,
        name=row.name,
        source=row.source,
        revision=row.revision,
        fingerprint=row.fingerprint,
        idea_count=len(document.ideas),
        skipped=[SkippedOut(idea=item["idea"], reason=item["reason"]) for item in row.skipped],
        warnings=idea_rows.warnings(document.ideas, idea_rows.details_of(row.idea_details)),
        teams_left_out=[
            TeamLeftOutOut(team=item.team, ideas=item.ideas, effort=item.effort)
            for item in teams_left_out(document, row.backlog_effort)
        ],
        stale_estimates=_stale(row.source.get("staleEstimates")),
        calibration=row.source.get("calibration"),
        phases=document.phases,
        teams=document.teams,
        constraints=document.constraints,
        objective=document.objective,
        solver=document.solver,
        locked=row.locked,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _stale(found: dict | None) -> StaleEstimatesOut | None:
    if found is None:
        return None  # imported, or made before estimates had dates
    return StaleEstimatesOut(ideas=found["ideas"], planned=found["planned"], summary=found["summary"])


def run_out(row: RunRow) -> RunOut:
    summary = None
    if row.summary is not None:
        summary = RunSummary(
            status=row.summary["status"],
            objective=row.summary.get("objective"),
            best_bound=row.summary.get("bestBound"),
            gap=row.summary.get("gap"),
            objective_with_penalty=row.summary.get("objectiveWithPenalty"),
            penalty=row.summary.get("penalty"),
        )
    return RunOut(
        id=row.id,
        scenario_id=row.scenario_id,
        kind=row.kind,
        base_run_id=row.base_run_id,
        status=row.status,
        progress=row.progress,
        summary=summary,
        error=row.error,
        input_fingerprint=row.input_fingerprint,
        solver_name=row.solver_name,
        solver_version=row.solver_version,
        attempts=row.attempts,
        cancel_requested=row.cancel_requested,
        created_by=row.created_by,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
