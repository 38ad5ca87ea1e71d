"""HTTP controllers of plans and approvals: parse, call one use case, return a schema."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from services.kit.db import Conn
from services.kit.params import Page, PageSize, caller_of
from services.roadmap.plans import service
from services.roadmap.plans.domain import Status
from services.roadmap.plans.repository import AuditRow, PlanSummaryRow
from services.roadmap.plans.schemas import (
    AssignmentOut,
    AuditEventOut,
    DecisionIn,
    DecisionOut,
    PlanIn,
    PlanOut,
    PlanPage,
    PlanPhaseOut,
    PlanSummaryOut,
    RevisionIn,
    SolverOut,
)
from services.roadmap.plans.service import PlanView
from services.roadmap.scenarios.idea_rows import IdeaRow, roll_up

PortfolioFilter = Annotated[UUID | None, QueryParameter(name="portfolioId", description="only this portfolio's plans")]


class RunPlanController(Controller):
    path = "/runs/{run_id:uuid}/plans"
    tags = ["plans"]

    @post("", operation_id="promoteRun")
    async def promote(self, request: Request, conn: Conn, run_id: FromPath[UUID], data: JSONBody[PlanIn]) -> PlanOut:
        """Make a draft plan of a succeeded run whose result is optimal or feasible."""
        return plan_out(await service.promote_run(conn, run_id, name=data.name, caller=caller_of(request)))


class PlanController(Controller):
    path = "/plans"
    tags = ["plans"]

    @get("", operation_id="listPlans")
    async def list(
        self,
        request: Request,
        conn: Conn,
        portfolio_id: PortfolioFilter = None,
        status: FromQuery[Status | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> PlanPage:
        """List the plans of the caller's portfolios, newest first, by portfolio and status."""
        rows, total = await service.list_plans(
            conn, caller_of(request), portfolio_id=portfolio_id, status=status, page=page, page_size=page_size
        )
        return PlanPage(items=[summary_out(row) for row in rows], total=total, page=page, page_size=page_size)

    @get("/{plan_id:uuid}", operation_id="getPlan")
    async def read(self, request: Request, conn: Conn, plan_id: FromPath[UUID]) -> PlanOut:
        """One plan: its phases with budget, spend and decision, its assignments, its run's inputs and solver."""
        return plan_out(await service.plan_detail(conn, caller_of(request), plan_id))

    @post("/{plan_id:uuid}/submit", operation_id="submitPlan", status_code=200)
    async def submit(self, request: Request, conn: Conn, plan_id: FromPath[UUID]) -> PlanOut:
        """Send a draft plan to the leaders for their phase decisions."""
        return plan_out(await service.submit_plan(conn, plan_id, caller=caller_of(request)))

    @post("/{plan_id:uuid}/phases/{phase:str}/decision", operation_id="decidePhase", status_code=200)
    async def decide(
        self, request: Request, conn: Conn, plan_id: FromPath[UUID], phase: FromPath[str], data: JSONBody[DecisionIn]
    ) -> PlanOut:
        """Decide one phase of a submitted plan, with a comment: approve it (with `budget`, for less
        than it asks: if the plan spends more there, the phase needs a revision) or reject it, which
        asks for changes and leaves the plan under review. An approval stands. Needs the role leader
        on the plan's portfolio; whoever created, submitted or revised the plan never decides it."""
        view = await service.decide_phase(
            conn, plan_id, phase, data.decision, comment=data.comment, budget=data.budget, caller=caller_of(request)
        )
        return plan_out(view)

    @post("/{plan_id:uuid}/revisions", operation_id="revisePlan", status_code=200)
    async def revise(
        self, request: Request, conn: Conn, plan_id: FromPath[UUID], data: JSONBody[RevisionIn]
    ) -> PlanOut:
        """Answer requested changes: put the submitted plan onto another run of its scenario.
        Approvals of phases whose ideas and budget did not change stand; the others are asked again."""
        return plan_out(await service.revise_plan(conn, plan_id, data.run_id, caller=caller_of(request)))

    @post("/{plan_id:uuid}/withdraw", operation_id="withdrawPlan", status_code=200)
    async def withdraw(self, request: Request, conn: Conn, plan_id: FromPath[UUID]) -> PlanOut:
        """Take back a draft or submitted plan; it moves no further."""
        return plan_out(await service.withdraw_plan(conn, plan_id, caller=caller_of(request)))

    @get("/{plan_id:uuid}/audit", operation_id="getPlanAudit")
    async def audit(self, request: Request, conn: Conn, plan_id: FromPath[UUID]) -> list[AuditEventOut]:
        """Every transition of the plan, and each push to Jira's start and end with its counts,
        oldest first: who, the role that allowed it, when, what, input fingerprint, solver."""
        return [audit_out(row) for row in await service.audit_trail(conn, caller_of(request), plan_id)]


def summary_out(row: PlanSummaryRow) -> PlanSummaryOut:
    """The list entry of a plan."""
    return PlanSummaryOut(
        id=row.id,
        name=row.name,
        status=row.status,
        portfolio_id=row.portfolio_id,
        scenario_id=row.scenario_id,
        run_id=row.run_id,
        created_by=row.created_by,
        submitted_by=row.submitted_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def plan_out(view: PlanView) -> PlanOut:
    """A plan with its phases (each with its decision, if taken) and assignments."""
    plan, result = view.plan, view.result
    decided = {
        row.phase: DecisionOut(
            decision=row.decision,
            comment=row.comment,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            approved_budget=row.approved_budget,
        )
        for row in view.decisions
    }
    return PlanOut(
        id=plan.id,
        name=plan.name,
        status=plan.status,
        portfolio_id=plan.portfolio_id,
        scenario_id=plan.scenario_id,
        run_id=plan.run_id,
        created_by=plan.created_by,
        submitted_by=plan.submitted_by,
        revision=plan.revision,
        revised_by=plan.revised_by,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        input_fingerprint=plan.input_fingerprint,
        solver=SolverOut(name=plan.solver_name, version=plan.solver_version),
        result_status=result.status,
        objective=result.objective,
        best_bound=result.best_bound,
        gap=result.gap,
        phases=[
            PlanPhaseOut(
                key=phase.key,
                budget=phase.budget,
                spend=phase.spend,
                decision=decided.get(phase.key),
                start=phase.start,
                end=phase.end,
                kpis=roll_up((item.idea for item in result.assignments if item.phase == phase.key), view.ideas),
            )
            for phase in result.phases
        ],
        assignments=[_assignment(item.idea, item.phase, view.ideas.get(item.idea)) for item in result.assignments],
    )


def _assignment(idea: str, phase: str, row: IdeaRow | None) -> AssignmentOut:
    if row is None:
        return AssignmentOut(idea=idea, phase=phase)
    return AssignmentOut(idea=idea, phase=phase, **msgspec.structs.asdict(row))


def audit_out(row: AuditRow) -> AuditEventOut:
    """One audit event."""
    return AuditEventOut(
        action=row.action,
        actor=row.actor,
        actor_role=row.actor_role,
        at=row.at,
        input_fingerprint=row.input_fingerprint,
        solver=row.solver,
        detail=row.detail,
    )


PLAN_ROUTES = [RunPlanController, PlanController]
