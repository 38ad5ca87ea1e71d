"""Use cases of scenarios and runs: load, apply the rules, save, inside the request's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit import jobs
from services.kit.access import service as access
from services.kit.access.rights import PLAN, READ, PortfolioAccess, Right
from services.kit.auth import Caller
from services.kit.problems import Conflict, FieldProblem, InvalidInput, NotFound, invalid_conversion
from services.roadmap.optimiser.scenario import ScenarioDoc, ScenarioError
from services.roadmap.plans import service as plans_service
from services.roadmap.scenarios import compare, domain, idea_views, patch as scenario_patch, repository
from services.roadmap.scenarios.calibrate import calibrated, factors_of
from services.roadmap.scenarios.explain_runs import AlternativesIn, SensitivityIn
from services.roadmap.scenarios.frontier import FrontierPoint, Sweep, frontier_svg
from services.roadmap.scenarios.idea_rows import IdeaRow
from services.roadmap.scenarios.patch import PatchError
from services.roadmap.scenarios.repository import RunRow, ScenarioRow
from services.roadmap.scenarios.schemas import ReplanIn, RunIn, ScenarioIn, ScenarioPatch
from services.roadmap.scoring_client import ScoringClient

OPTIMISE_JOB = "roadmap.optimise"
FRONTIER_JOB = "roadmap.frontier"


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
    return await _load_scenario(conn, scenario_id)


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
    row = await _load_scenario(conn, scenario_id, for_update=for_update)
    await access.require_access(conn, caller, row.portfolio_id, right, missing=f"There is no scenario {scenario_id}.")
    return row


async def _load_scenario(conn: asyncpg.Connection, scenario_id: UUID, *, for_update: bool = False) -> ScenarioRow:
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
    return await _load_scenario(conn, scenario_id)


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


async def start_run(conn: asyncpg.Connection, scenario_id: UUID, body: RunIn, *, caller: Caller) -> RunRow:
    """Record a run and enqueue its job in the same transaction: both happen, or neither."""
    scenario = await require_scenario(conn, caller, scenario_id, PLAN)
    options = {
        key: value
        for key, value in (("timeLimitSeconds", body.time_limit_seconds), ("relativeGap", body.relative_gap))
        if value is not None
    }
    run = await repository.insert_run(
        conn,
        scenario_id=scenario_id,
        document=scenario.document,
        fingerprint=scenario.fingerprint,
        options=options,
        created_by=caller.subject,
    )
    await jobs.enqueue(conn, OPTIMISE_JOB, str(run.id).encode())
    return run


async def start_frontier(conn: asyncpg.Connection, scenario_id: UUID, raw: dict[str, Any], *, caller: Caller) -> RunRow:
    """Record a frontier sweep of the scenario and enqueue its job, in one transaction."""
    scenario = await require_scenario(conn, caller, scenario_id, PLAN)
    try:
        sweep = msgspec.convert(raw, Sweep)
    except (msgspec.ValidationError, ValueError) as exc:
        raise invalid_conversion(exc) from None
    run = await repository.insert_run(
        conn,
        scenario_id=scenario_id,
        document=scenario.document,
        fingerprint=scenario.fingerprint,
        options={"sweep": msgspec.to_builtins(sweep)},
        created_by=caller.subject,
        kind="frontier",
    )
    await jobs.enqueue(conn, FRONTIER_JOB, str(run.id).encode())
    return run


_EXPLANATIONS: dict[str, tuple[type[Any], str]] = {
    "sensitivity": (SensitivityIn, "roadmap.sensitivity"),
    "alternatives": (AlternativesIn, "roadmap.alternatives"),
}


async def start_explanation(
    conn: asyncpg.Connection, base_run_id: UUID, kind: str, raw: dict[str, Any], *, caller: Caller
) -> RunRow:
    """A job that explains a finished optimisation run: budget sensitivity or alternative plans."""
    options_type, entrypoint = _EXPLANATIONS[kind]
    try:
        options = msgspec.convert(raw, options_type)
    except (msgspec.ValidationError, ValueError) as exc:
        raise invalid_conversion(exc) from None
    base = await require_run(conn, caller, base_run_id, PLAN)
    if base.kind != "optimise" or base.summary is None or base.summary["status"] not in ("optimal", "feasible"):
        raise Conflict(f"Run {base_run_id} has no plan to explain: only a finished optimisation with a plan has.")
    document = await repository.run_document(conn, base_run_id)
    run = await repository.insert_run(
        conn,
        scenario_id=base.scenario_id,
        document=document or {},
        fingerprint=base.input_fingerprint,
        options={kind: msgspec.to_builtins(options)},
        created_by=caller.subject,
        kind=kind,
        base_run_id=base_run_id,
    )
    await jobs.enqueue(conn, entrypoint, str(run.id).encode())
    return run


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
    scenario = await _load_scenario(conn, basis.scenario_id)
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


async def frontier_chart(conn: asyncpg.Connection, caller: Caller, run_id: UUID) -> str:
    """The frontier of a finished sweep as an SVG chart."""
    run = await require_run(conn, caller, run_id, READ)
    if run.kind != "frontier":
        raise NotFound(f"Run {run_id} is not a frontier sweep.")
    result = await _result_of(conn, run)
    points = msgspec.convert(result["points"], list[FrontierPoint])
    scenario = await _load_scenario(conn, run.scenario_id)
    swept = await repository.run_document(conn, run_id)
    current = sum(phase["budget"] for phase in (swept or scenario.document)["phases"])
    title = f"Efficient frontier: {scenario.name}"
    return frontier_svg(points, title=title, currency=scenario.source.get("currency", ""), current_budget=current)


async def require_run(conn: asyncpg.Connection, caller: Caller, run_id: UUID, right: Right) -> RunRow:
    """A run of a portfolio where the caller's roles allow `right`."""
    subject, groups = access.caller_params(caller)
    found = await repository.get_run_with_roles(conn, run_id, subject=subject, groups=groups)
    if found is None:
        raise NotFound(f"There is no run {run_id}.")
    row, roles = found
    access.grant(caller, row.portfolio_id, roles, right, missing=f"There is no run {run_id}.")
    return row


async def list_runs(
    conn: asyncpg.Connection, caller: Caller, scenario_id: UUID, *, page: int, page_size: int
) -> tuple[list[RunRow], int]:
    await require_scenario(conn, caller, scenario_id, READ)
    return await repository.list_runs(conn, scenario_id, limit=page_size, offset=(page - 1) * page_size)


async def run_result(conn: asyncpg.Connection, caller: Caller, run_id: UUID) -> dict[str, Any]:
    """The result document, each assignment with its idea's row (title, owner, value, KPIs, ...)."""
    run = await require_run(conn, caller, run_id, READ)
    result = await _result_of(conn, run)
    return idea_views.with_rows(result, await idea_views.rows_of_run(conn, run_id, run.scenario_id))


async def _result_of(conn: asyncpg.Connection, run: RunRow) -> dict[str, Any]:
    result = await repository.run_result(conn, run.id)
    if result is None:
        raise Conflict(f"Run {run.id} has no result yet: it is {run.status}.")
    return result


async def cancel_run(conn: asyncpg.Connection, caller: Caller, run_id: UUID) -> RunRow:
    """Stop a run: at once if still queued; a running one stops at its next check, keeping its best plan."""
    run = await require_run(conn, caller, run_id, PLAN)
    cancelled = await repository.request_cancel(conn, run_id)
    if cancelled is None:
        raise Conflict(f"Run {run_id} has already finished: it is {run.status}.")
    return cancelled


async def compare_runs(
    conn: asyncpg.Connection, caller: Caller, run_ids: list[UUID]
) -> tuple[list[compare.RunColumn], list[compare.NotCompared], list[IdeaRow]]:
    """Finished optimisation runs side by side, each against the first; the others listed apart;
    and a row for each idea added, removed or moved (as the first run that has it knows it)."""
    if len(set(run_ids)) != len(run_ids):
        raise InvalidInput("A run is listed twice.", errors=[FieldProblem(field="query.ids", message="repeats a run")])
    candidates = []
    rows: dict[str, IdeaRow] = {}
    for run_id in run_ids:
        run = await require_run(conn, caller, run_id, READ)
        result = await repository.run_result(conn, run_id) if run.kind == "optimise" else None
        candidates.append(compare.Candidate(run_id=str(run_id), kind=run.kind, status=run.status, result=result))
        if result is not None:
            rows = {**await idea_views.rows_of_run(conn, run_id, run.scenario_id), **rows}
    columns, left_out = compare.compare(candidates)
    if not columns:
        problems = [
            FieldProblem(field=f"query.ids[{index}]", message=item.reason) for index, item in enumerate(left_out)
        ]
        raise InvalidInput("None of these runs is a finished optimisation, so nothing compares.", errors=problems)
    named = {item.idea for column in columns for item in (*column.added, *column.removed, *column.moved)}
    return columns, left_out, [rows[ref] for ref in sorted(named) if ref in rows]
