"""Use cases of plans and approvals: lock, load, apply the lifecycle rules, save, audit.

Every transition runs inside the request's transaction and starts by locking the plan row,
so two leaders deciding at once are served one after the other and each sees the other's
decision: a plan can never end up approved with a phase awaiting changes, or approved twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access import service as access
from services.kit.access.rights import DECIDE, PLAN, READ, PortfolioAccess, Right
from services.kit.auth import Caller
from services.kit.events.service import emit
from services.kit.problems import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from services.roadmap.plans import domain as rules, repository
from services.roadmap.plans.domain import (
    BadBudget,
    Event,
    PhaseFigures,
    PlanRuleBroken,
    PlanState,
    Status,
    Transition,
    UnknownPhase,
    Verdict,
)
from services.roadmap.plans.events import outbound_events
from services.roadmap.plans.repository import AuditRow, DecisionRow, PlanRow, PlanSummaryRow, RunResult
from services.roadmap.scenarios import idea_views
from services.roadmap.scenarios.idea_rows import IdeaRow


class PlanView(msgspec.Struct, frozen=True):
    """A plan with its run's result and the decisions taken so far."""

    plan: PlanRow
    result: RunResult
    decisions: list[DecisionRow]
    ideas: dict[str, IdeaRow] = {}


def solver_label(plan: PlanRow) -> str | None:
    """The solver as the audit trail names it: "name version"."""
    label = " ".join(part for part in (plan.solver_name, plan.solver_version) if part)
    return label or None


def _applied(rule: Callable[..., Transition], *args: Any, **kwargs: Any) -> Transition:
    """Run a lifecycle rule, turning a broken rule into the problem the API reports."""
    try:
        return rule(*args, **kwargs)
    except UnknownPhase as exc:
        raise InvalidInput(exc.message, errors=[FieldProblem(field="phase", message=exc.message)]) from None
    except BadBudget as exc:
        raise InvalidInput(exc.message, errors=[FieldProblem(field="budget", message=exc.message)]) from None
    except PlanRuleBroken as exc:
        raise Conflict(exc.message) from None


async def _require_plan(
    conn: asyncpg.Connection, caller: Caller, plan_id: UUID, right: Right, *, for_update: bool = False
) -> tuple[PlanRow, PortfolioAccess]:
    """A plan of a portfolio where the caller's roles allow `right`, with that access."""
    plan = await _load_plan(conn, plan_id, for_update=for_update)
    missing = f"There is no plan {plan_id}."
    return plan, await access.require_access(conn, caller, plan.portfolio_id, right, missing=missing)


async def _load_plan(conn: asyncpg.Connection, plan_id: UUID, *, for_update: bool = False) -> PlanRow:
    plan = await repository.get_plan(conn, plan_id, for_update=for_update)
    if plan is None:
        raise NotFound(f"There is no plan {plan_id}.")
    return plan


async def _state(conn: asyncpg.Connection, plan: PlanRow) -> PlanState:
    # Read after the plan row is locked, so the decisions are the latest committed ones.
    decided = {row.phase: row.decision for row in await repository.decisions(conn, plan.id)}
    return PlanState(status=cast(Status, plan.status), phases=tuple(plan.phase_keys), decisions=cast(Any, decided))


async def _record(
    conn: asyncpg.Connection, plan: PlanRow, events: Iterable[Event], actor: PortfolioAccess, right: Right
) -> None:
    """Append events to the plan's audit trail, naming the actor and the role that allowed them,
    and tell the portfolio's subscribers those they hear of, in the same transaction."""
    events = list(events)
    await repository.insert_events(
        conn,
        plan.id,
        [(event.action, event.detail) for event in events],
        actor=actor.subject,
        actor_role=actor.role_allowing(right),
        input_fingerprint=plan.input_fingerprint,
        solver=solver_label(plan),
    )
    about = {"planId": str(plan.id), "name": plan.name, "revision": plan.revision, "phases": list(plan.phase_keys)}
    for event_type, data in outbound_events(about, events, actor=actor.subject):
        await emit(conn, event_type, portfolio_id=plan.portfolio_id, subject=f"plans/{plan.id}", data=data)


async def plan_detail(conn: asyncpg.Connection, caller: Caller, plan_id: UUID) -> PlanView:
    """A plan with its phases, assignments and decisions."""
    plan, _ = await _require_plan(conn, caller, plan_id, READ)
    return await _view(conn, plan)


async def _view(conn: asyncpg.Connection, plan: PlanRow) -> PlanView:
    result = await repository.run_result(conn, plan.run_id)
    ideas = await idea_views.rows_of_run(conn, plan.run_id, plan.scenario_id)
    return PlanView(plan=plan, result=result, decisions=await repository.decisions(conn, plan.id), ideas=ideas)


async def list_plans(
    conn: asyncpg.Connection,
    caller: Caller,
    *,
    portfolio_id: UUID | None,
    status: str | None,
    page: int,
    page_size: int,
) -> tuple[list[PlanSummaryRow], int]:
    """A page of the plans of the caller's portfolios, newest first, optionally of one portfolio and in one status."""
    if portfolio_id is not None:
        await access.require_access(conn, caller, portfolio_id, READ)
    return await repository.list_plans(
        conn,
        portfolio_id=portfolio_id,
        status=status,
        scope=access.scope_of(caller),
        limit=page_size,
        offset=(page - 1) * page_size,
    )


async def promote_run(conn: asyncpg.Connection, run_id: UUID, *, name: str, caller: Caller) -> PlanView:
    """Make a draft plan of a succeeded run that found a plan."""
    run = await repository.get_run_for_plan(conn, run_id)
    if run is None:
        raise NotFound(f"There is no run {run_id}.")
    actor = await access.require_access(conn, caller, run.portfolio_id, PLAN, missing=f"There is no run {run_id}.")
    transition = _applied(
        rules.new_plan,
        run_kind=run.kind,
        run_status=run.status,
        result_status=run.result_status,
        phases=tuple(run.phase_keys),
        run_id=str(run.id),
        name=name,
    )
    plan_id = await repository.insert_plan(
        conn,
        run_id=run.id,
        scenario_id=run.scenario_id,
        portfolio_id=run.portfolio_id,
        name=name,
        created_by=caller.subject,
    )
    plan = await _load_plan(conn, plan_id)
    await _record(conn, plan, transition.events, actor, PLAN)
    return await _view(conn, plan)


async def submit_plan(conn: asyncpg.Connection, plan_id: UUID, *, caller: Caller) -> PlanView:
    """Send a draft plan to the leaders."""
    plan, actor = await _require_plan(conn, caller, plan_id, PLAN, for_update=True)
    transition = _applied(rules.submit, await _state(conn, plan))
    await repository.mark_submitted(conn, plan.id, by=caller.subject)
    await _record(conn, plan, transition.events, actor, PLAN)
    return await _view(conn, await _load_plan(conn, plan_id))


async def decide_phase(
    conn: asyncpg.Connection,
    plan_id: UUID,
    phase: str,
    verdict: Verdict,
    *,
    comment: str,
    budget: float | None,
    caller: Caller,
) -> PlanView:
    """A leader's decision on one phase budget: approve (possibly for less), or ask for changes.

    The plan is approved when every phase is. Four eyes: whoever created, submitted or revised
    the plan never decides it, whatever roles they hold.
    """
    plan, actor = await _require_plan(conn, caller, plan_id, DECIDE, for_update=True)
    _require_other_eyes(plan, caller)
    _check_decision(plan, phase, comment)
    figures = _figures(await repository.run_result(conn, plan.run_id), phase)
    taken = _judged(verdict, figures, budget)
    transition = _applied(rules.decide, await _state(conn, plan), phase, taken, comment=comment)
    if transition.state.status == "approved":
        await _supersede_approved(conn, plan, actor)
    await repository.record_decision(
        conn,
        plan.id,
        phase=phase,
        decision=taken.decision,
        comment=comment,
        decided_by=caller.subject,
        approved_budget=taken.approved_budget,
    )
    if transition.state.status != plan.status:
        await repository.set_status(conn, plan.id, transition.state.status)
    await _record(conn, plan, transition.events, actor, DECIDE)
    return await _view(conn, await _load_plan(conn, plan_id))


def _figures(result: RunResult, phase: str) -> PhaseFigures:
    found = next((p for p in result.phases if p.key == phase), None)
    return PhaseFigures(budget=found.budget, spend=found.spend) if found else PhaseFigures(budget=0.0, spend=0.0)


def _judged(verdict: Verdict, figures: PhaseFigures, budget: float | None) -> rules.DecisionTaken:
    try:
        return rules.judge(verdict, figures, budget=budget)
    except BadBudget as exc:
        raise InvalidInput(exc.message, errors=[FieldProblem(field="budget", message=exc.message)]) from None


async def revise_plan(conn: asyncpg.Connection, plan_id: UUID, run_id: UUID, *, caller: Caller) -> PlanView:
    """Put a submitted plan onto another run of its scenario: the programme manager's answer to
    requested changes. Approvals of phases whose ideas and budget did not change stand; the
    other phases are asked again."""
    plan, actor = await _require_plan(conn, caller, plan_id, PLAN, for_update=True)
    run = await repository.get_run_for_plan(conn, run_id)
    if run is None or run.scenario_id != plan.scenario_id:
        message = "not a run of this plan's scenario"
        raise InvalidInput(f"runId: {message}", errors=[FieldProblem(field="runId", message=message)])
    _applied(rules.check_run, run_kind=run.kind, run_status=run.status, result_status=run.result_status,
             phases=tuple(run.phase_keys))  # fmt: skip
    unchanged = rules.unchanged_phases(
        _phase_contents(await repository.run_result(conn, plan.run_id)),
        _phase_contents(await repository.run_result(conn, run.id)),
    )
    state = await _state(conn, plan)
    transition = _applied(
        rules.revise, state, phases=tuple(run.phase_keys), unchanged=unchanged, run_id=str(run.id),
        revision=plan.revision + 1,
    )  # fmt: skip
    if transition.state.status == "approved":
        await _supersede_approved(conn, plan, actor)
    await repository.move_to_run(conn, plan.id, run_id=run.id, by=caller.subject)
    await repository.keep_decisions(conn, plan.id, list(transition.state.decisions))
    if transition.state.status != plan.status:
        await repository.set_status(conn, plan.id, transition.state.status)
    revised = await _load_plan(conn, plan_id)
    await _record(conn, revised, transition.events, actor, PLAN)
    return await _view(conn, revised)


def _phase_contents(result: RunResult) -> dict[str, tuple[float, frozenset[str]]]:
    """Phase -> (budget, its ideas): what a phase is, for keeping its approval through a revision."""
    ideas: dict[str, set[str]] = {}
    for assignment in result.assignments:
        ideas.setdefault(assignment.phase, set()).add(assignment.idea)
    return {phase.key: (phase.budget, frozenset(ideas.get(phase.key, ()))) for phase in result.phases}


async def withdraw_plan(conn: asyncpg.Connection, plan_id: UUID, *, caller: Caller) -> PlanView:
    """Take back a draft or submitted plan; it moves no further (and no longer holds its portfolio)."""
    plan, actor = await _require_plan(conn, caller, plan_id, PLAN, for_update=True)
    transition = _applied(rules.withdraw, await _state(conn, plan))
    await repository.set_status(conn, plan.id, transition.state.status)
    await _record(conn, plan, transition.events, actor, PLAN)
    return await _view(conn, await _load_plan(conn, plan_id))


def _check_decision(plan: PlanRow, phase: str, comment: str) -> None:
    """Every problem of a decision's input at once: a phase the plan lacks, a blank comment.

    A plan that is not submitted takes no decision at all: the lifecycle rule says so (409).
    """
    if plan.status != "submitted":
        return
    problems = []
    if phase not in plan.phase_keys:
        message = f"{phase!r} is not a phase of this plan; its phases are {', '.join(plan.phase_keys)}"
        problems.append(FieldProblem(field="phase", message=message))
    if not comment.strip():
        problems.append(FieldProblem(field="comment", message="a decision needs a comment saying why"))
    if problems:
        raise InvalidInput("; ".join(f"{p.field}: {p.message}" for p in problems), errors=problems)


def _require_other_eyes(plan: PlanRow, caller: Caller) -> None:
    did = [
        what
        for what, hands in (
            ("created", [plan.created_by]),
            ("submitted", [plan.submitted_by]),
            ("revised", plan.revised_by),
        )
        if caller.subject in hands
    ]
    if did:
        raise Forbidden(
            f"You {' and '.join(did)} this plan, so another leader decides its phases (four eyes), "
            "whatever roles you hold."
        )


async def _supersede_approved(conn: asyncpg.Connection, plan: PlanRow, actor: PortfolioAccess) -> None:
    """Retire the portfolio's approved plan before `plan` takes its place, and pin `plan`'s scenario."""
    # Without this lock, two plans of one portfolio approved at once would both find the old
    # plan, and the second would then break the one-approved-plan index with a 500.
    await repository.lock_portfolio_approvals(conn, plan.portfolio_id)
    await repository.share_lock_scenario(conn, plan.scenario_id)
    previous = await repository.approved_plan(conn, plan.portfolio_id)
    if previous is None:
        return
    transition = _applied(rules.supersede, await _state(conn, previous), by_plan=str(plan.id))
    await repository.set_status(conn, previous.id, transition.state.status)
    await _record(conn, previous, transition.events, actor, DECIDE)


async def audit_trail(conn: asyncpg.Connection, caller: Caller, plan_id: UUID) -> list[AuditRow]:
    """Every transition of the plan, and its pushes as integrations told of them (push_audit_jobs.py), oldest first."""
    await _require_plan(conn, caller, plan_id, READ)
    return await repository.audit_events(conn, plan_id)


async def scenario_is_locked(conn: asyncpg.Connection, scenario_id: UUID) -> bool:
    """Whether an approved plan uses the scenario, so the scenario must not change.

    Call it inside the transaction that edits the scenario: it locks the scenario row until
    that transaction ends, so no plan on the scenario can be approved between this check and
    the edit (approving takes a share lock on the scenario and waits for the edit to commit).
    """
    return await repository.scenario_is_locked(conn, scenario_id)
