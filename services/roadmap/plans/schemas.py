"""Request and response bodies of plans and approvals: camelCase on the wire, unknown fields rejected."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from services.roadmap.scenarios.idea_rows import KpiDoc, KpiRollup, OwnerDoc

# A pattern of one non-space character: a name or comment of only blanks says nothing.
PlanName = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"\S")]
# Required, and not blank: a blank one is reported together with an unknown phase, so the
# service checks that, not the decoder.
Comment = Annotated[str, Meta(max_length=4000, description="why: required and not blank")]


class Input(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies."""


class Output(msgspec.Struct, rename="camel", kw_only=True):
    """Base of response bodies."""


class PlanIn(Input):
    name: PlanName


class DecisionIn(Input):
    """`approve` (with `budget`, for less than the phase asks) or `reject`, which asks for changes."""

    decision: Literal["approve", "reject"]
    comment: Comment
    budget: Annotated[float, Meta(ge=0, le=1e15)] | None = None


class RevisionIn(Input):
    """Another succeeded run of the plan's scenario, to put the plan onto."""

    run_id: UUID


class DecisionOut(Output):
    """`approved` stands; `changes_requested` waits for a revision (or a later approval)."""

    decision: str
    comment: str
    decided_by: str
    decided_at: datetime
    approved_budget: float | None


class PlanPhaseOut(Output):
    """A phase of the plan, in time order: its budget, spend, decision and, if the scenario
    gives them, its dates (the plan's timeline)."""

    key: str
    budget: float
    spend: float
    decision: DecisionOut | None
    start: date | None = None
    end: date | None = None
    kpis: list[KpiRollup] = msgspec.field(default_factory=list)


class AssignmentOut(Output):
    """An idea the plan does in a phase, with what a leader needs to read it."""

    idea: str
    phase: str
    # Unset (left out) only for an idea the run's document does not describe.
    ref: str | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    owner: OwnerDoc | None | msgspec.UnsetType = msgspec.UNSET
    persona: str | None | msgspec.UnsetType = msgspec.UNSET
    journey_stage: str | None | msgspec.UnsetType = msgspec.UNSET
    cost: float | None | msgspec.UnsetType = msgspec.UNSET
    value: float | None | msgspec.UnsetType = msgspec.UNSET
    kpis: list[KpiDoc] | msgspec.UnsetType = msgspec.UNSET
    quadrant: str | None | msgspec.UnsetType = msgspec.UNSET


class SolverOut(Output):
    name: str | None
    version: str | None


class PlanSummaryOut(Output):
    id: UUID
    name: str
    status: str
    portfolio_id: UUID
    scenario_id: UUID
    run_id: UUID
    created_by: str
    submitted_by: str | None
    created_at: datetime
    updated_at: datetime


class PlanOut(PlanSummaryOut, kw_only=True):
    revision: int
    revised_by: list[str]
    input_fingerprint: str
    solver: SolverOut
    result_status: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    phases: list[PlanPhaseOut]
    assignments: list[AssignmentOut]


class PlanPage(Output):
    items: list[PlanSummaryOut]
    total: int
    page: int
    page_size: int


class AuditEventOut(Output):
    action: str
    actor: str
    actor_role: str
    at: datetime
    input_fingerprint: str
    solver: str | None
    detail: dict[str, Any]
