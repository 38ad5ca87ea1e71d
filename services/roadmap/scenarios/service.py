"""Use cases of scenarios: load, apply the rules, save, inside the request's transaction.

Those of runs (start, read, cancel, compare) are in runs_service.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access import service as access
from services.kit.access.rights import PLAN, READ, PortfolioAccess, Right
from services.kit.auth import Caller
from services.kit.problems import Conflict, FieldProblem, InvalidInput, NotFound, invalid_conversion
from services.roadmap.optimiser.scenario import ScenarioDoc, ScenarioError
from services.roadmap.plans import service as plans_service
from services.roadmap.scenarios import domain, idea_views, patch as scenario_patch, repository
from services.roadmap.scenarios.calibrate import calibrated, factors_of
from services.roadmap.scenarios.patch import PatchError
from services.roadmap.scenarios.repository import ScenarioRow
from services.roadmap.scenarios.schemas import ReplanIn, ScenarioIn, ScenarioPatch
from services.roadmap.scoring_client import ScoringClient


def _checked(document: ScenarioDoc, *, prefix: str = "", skipped: Sequence[domain.Skipped] = ()) -> ScenarioDoc:
    """The document if the optimiser can take it; else a 422 naming the field.

    A constraint on an idea of the backlog the scenario skipped (no score, no cost) says so,
    rather than calling the idea unknown.
    """
    try:
        domain.check(document)
    except ScenarioError as exc:
        field = f"{prefix}{exc.path}" if exc.path else (prefix.rstrip(".") or "body")
        message = domain.explain_unknown_idea(exc.message, skipped)
        raise InvalidInput(f"{field}: {message}", errors=[FieldProblem(field=field, message=message)]) from None
    return document


async def create_scenario(
    conn: asyncpg.Connection, scoring: ScoringClient, body: ScenarioIn, *, caller: Caller, token: str
) -> ScenarioRow:
    """A scenario on the frozen scores of a scoring model version."""
    await _require_portfolio(conn, caller, body.portfolio_id)
    snapshot = await scoring.snapshot(body.portfolio_id, body.model_id, body.model_version, token=token)
    ideas, skipped = domain.ideas_from_snapshot(snapshot)
    applied = None
    if body.calibration == "apply":
        report = await scoring.calibration(body.portfolio_id, token=token)
        ideas, applied = calibrated(ideas, factors_of(report))
    details = idea_views.details_from_snapshot(snapshot, ideas)
    if body.quick_wins_only:
        ideas = idea_views.quick_wins_only(ideas, details, body.quick_wins_only, body.phases)
    settings = domain.Settings(
        phases=body.phases, teams=body.teams, constraints=body.constraints, objective=body.objective, solver=body.solver
    )
    document = _checked(domain.assemble(body.name, settings, ideas), skipped=skipped)
    source = {
        "kind": "scores",
        "modelId": snapshot.model_id,
        "modelName": snapshot.model_name,
        "modelVersion": snapshot.model_version,
        "modelVersionId": snapshot.model_version_id,
        "currency": snapshot.currency,
        "staleEstimates": domain.stale_estimates(snapshot, ideas),
        **({"calibration": applied} if applied is not None else {}),
        **({"quickWinsOnly": body.quick_wins_only} if body.quick_wins_only else {}),
    }
    effort = domain.backlog_effort_of(ideas)
    return await _insert(conn, body.portfolio_id, document, source, skipped, caller, effort, details)


async def import_scenario(
    conn: asyncpg.Connection, *, portfolio_id: UUID, raw: dict[str, Any], caller: Caller
) -> ScenarioRow:
    """A scenario from a scenario document: its ideas and values are taken as written."""
    await _require_portfolio(conn, caller, portfolio_id)
    try:
        document = msgspec.convert(raw, ScenarioDoc)
    except msgspec.ValidationError as exc:
        raise invalid_conversion(exc, under="document") from None
    document = _checked(document, prefix="document.")
    if not document.name.strip():
        problem = FieldProblem(field="document.name", message="must not be blank")
        raise InvalidInput("document.name: must not be blank", errors=[problem])
    effort = domain.backlog_effort_of(document.ideas)
    return await _insert(conn, portfolio_id, document, {"kind": "import"}, [], caller, effort)


async def _insert(
    conn: asyncpg.Connection,
    portfolio_id: UUID,
    document: ScenarioDoc,
    source: dict[str, Any],
    skipped: list[domain.Skipped],
    caller: Caller,
    backlog_effort: dict[str, dict[str, float]],
    idea_details: dict[str, Any] | None = None,
) -> ScenarioRow:
    scenario_id = await repository.insert_scenario(
        conn,
        portfolio_id=portfolio_id,
        name=document.name,
        source=source,
        document=domain.as_json(document),
        skipped=[msgspec.to_builtins(item) for item in skipped],
        fingerprint=domain.fingerprint(document),
        created_by=caller.subject,
        backlog_effort=backlog_effort,
        idea_details=idea_details,
    )
    return await load_scenario(conn, scenario_id)


async def _require_portfolio(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID) -> PortfolioAccess:
    """The right to plan in the portfolio a request body names; its 404 names the field."""
    try:
        return await access.require_access(conn, caller, portfolio_id, PLAN)
    except NotFound:
        problem = FieldProblem(field="portfolioId", message="no such portfolio, or you are not a member of it")
        raise NotFound(f"There is no portfolio {portfolio_id}.", errors=[problem]) from None


async def require_scenario(
    conn: asyncpg.Connection, caller: Caller, scenario_id: UUID, right: Right, *, for_update: bool = False
) -> ScenarioRow:
    """A scenario of a portfolio where the caller's roles allow `right`."""
    row = await load_scenario(conn, scenario_id, for_update=for_update)
    await access.require_access(conn, caller, row.portfolio_id, right, missing=f"There is no scenario {scenario_id}.")
    return row


async def load_scenario(conn: asyncpg.Connection, scenario_id: UUID, *, for_update: bool = False) -> ScenarioRow:
    row = await repository.get_scenario(conn, scenario_id, for_update=for_update)
    if row is None:
        raise NotFound(f"There is no scenario {scenario_id}.")
    return row


def document_of(row: ScenarioRow) -> ScenarioDoc:
    return msgspec.convert(row.document, ScenarioDoc)


def patched_settings(settings: domain.Settings, patch: ScenarioPatch) -> domain.Settings:
    """The settings with the patch merged in by key (PatchError naming the patch's field)."""
    changes: dict[str, Any] = {}
    if patch.phases is not msgspec.UNSET:
        changes["phases"] = scenario_patch.merge_phases(settings.phases, patch.phases, order=domain.PHASES)
    if patch.teams is not msgspec.UNSET:
        changes["teams"] = scenario_patch.merge_teams(settings.teams, patch.teams)
    if patch.constraints is not msgspec.UNSET:
        changes["constraints"] = scenario_patch.merge_constraints(settings.constraints, patch.constraints)
    if patch.objective is not msgspec.UNSET:
        changes["objective"] = scenario_patch.merge_objective(settings.objective, patch.objective)
    if patch.solver is not msgspec.UNSET:
        changes["solver"] = scenario_patch.merge_solver(settings.solver, patch.solver)
    return msgspec.structs.replace(settings, **changes)


async def list_scenarios(
    conn: asyncpg.Connection, caller: Caller, *, portfolio_id: UUID | None, page: int, page_size: int
) -> tuple[list[ScenarioRow], int]:
    """Scenarios of one portfolio, or of every portfolio the caller is a member of."""
    if portfolio_id is not None:
        await access.require_access(conn, caller, portfolio_id, READ)
    return await repository.list_scenarios(
        conn, portfolio_id=portfolio_id, scope=access.scope_of(caller), limit=page_size, offset=(page - 1) * page_size
    )


async def _require_unlocked(conn: asyncpg.Connection, caller: Caller, scenario_id: UUID) -> ScenarioRow:
    row = await require_scenario(conn, caller, scenario_id, PLAN)
    if await plans_service.scenario_is_locked(conn, scenario_id):
        raise Conflict("An approved plan stands on this scenario: it cannot change. Clone it instead.")
    return row


async def update_scenario(
    conn: asyncpg.Connection, caller: Caller, scenario_id: UUID, patch: ScenarioPatch
) -> ScenarioRow:
    """Change settings by key (a new revision; scenario_patch says how); the frozen ideas stay."""
    row = await _require_unlocked(conn, caller, scenario_id)
    current = document_of(row)
    try:
        settings = patched_settings(domain.settings_of(current), patch)
    except PatchError as exc:
        raise InvalidInput(str(exc), errors=[FieldProblem(field=exc.path, message=exc.message)]) from None
    name = current.name if patch.name is msgspec.UNSET else patch.name
    # The ideas get their effort for every team back, so a team added now is constrained.
    ideas = domain.with_backlog_effort(current.ideas, row.backlog_effort)
    skipped = [msgspec.convert(item, domain.Skipped) for item in row.skipped]
    document = _checked(domain.assemble(name, settings, ideas, current.baseline), skipped=skipped)
    await repository.update_scenario(
        conn, scenario_id, name=name, document=domain.as_json(document), fingerprint=domain.fingerprint(document)
    )
    return await load_scenario(conn, scenario_id)


async def clone_scenario(conn: asyncpg.Connection, scenario_id: UUID, *, name: str, caller: Caller) -> ScenarioRow:
    """A copy to change freely: same frozen ideas, same settings, a new name."""
    row = await require_scenario(conn, caller, scenario_id, PLAN)
    document = msgspec.structs.replace(document_of(row), name=name)
    skipped = [msgspec.convert(item, domain.Skipped) for item in row.skipped]
    source = {**row.source, "clonedFrom": str(row.id)}
    return await _insert(
        conn, row.portfolio_id, document, source, skipped, caller, row.backlog_effort, row.idea_details
    )


async def delete_scenario(conn: asyncpg.Connection, caller: Caller, scenario_id: UUID) -> None:
    await require_scenario(conn, caller, scenario_id, PLAN, for_update=True)
    if await repository.scenario_has_plans(conn, scenario_id):
        raise Conflict("Plans were made from this scenario: it is kept for their audit trail.")
    await repository.delete_scenario(conn, scenario_id)


# --- runs -------------------------------------------------------------------------------


async def replan(conn: asyncpg.Connection, plan_id: UUID, body: ReplanIn, *, caller: Caller) -> ScenarioRow:
    """A new scenario from an approved plan: its settings, the plan as the baseline to keep, and
    the budgets the leaders approved (unless the request gives others, merged by phase key).

    Moving or dropping an approved idea costs `movePenalty` in the objective, so a run of the
    new scenario changes the approved plan only where that is worth it, and says what moved.
    The scenario's `source.budgets` says where each budget came from.
    """
    basis = await repository.plan_basis(conn, plan_id)
    if basis is None:
        raise NotFound(f"There is no plan {plan_id}.")
    scenario = await load_scenario(conn, basis.scenario_id)
    await access.require_access(conn, caller, scenario.portfolio_id, PLAN, missing=f"There is no plan {plan_id}.")
    if basis.status != "approved":
        raise Conflict(f"Only an approved plan is re-planned; this one is {basis.status}.")
    approved = [
        msgspec.structs.replace(phase, budget=basis.approved_budgets.get(phase.key, phase.budget))
        for phase in document_of(scenario).phases
    ]
    given = [] if body.phases is msgspec.UNSET else body.phases
    try:
        phases = scenario_patch.merge_phases(approved, given, order=domain.PHASES)
    except PatchError as exc:
        raise InvalidInput(str(exc), errors=[FieldProblem(field=exc.path, message=exc.message)]) from None
    baseline = {"assignments": basis.assignments, "movePenalty": body.move_penalty}
    raw = {**scenario.document, "name": body.name, "phases": msgspec.to_builtins(phases), "baseline": baseline}
    document = _checked(msgspec.convert(raw, ScenarioDoc))
    skipped = [msgspec.convert(item, domain.Skipped) for item in scenario.skipped]
    budgets = {"from": "the approved plan", "approved": basis.approved_budgets, "given": [p.key for p in given]}
    source = {**scenario.source, "replanOf": str(plan_id), "clonedFrom": str(scenario.id), "budgets": budgets}
    effort, details = scenario.backlog_effort, scenario.idea_details
    return await _insert(conn, scenario.portfolio_id, document, source, skipped, caller, effort, details)
