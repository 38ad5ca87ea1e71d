"""Request and response bodies of the scenario and run endpoints (camelCase, unknown fields refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from services.roadmap.optimiser.scenario import ConstraintDoc, ObjectiveDoc, PhaseDoc, SolverDoc, TeamDoc
from services.roadmap.scenarios.compare import NotCompared, RunColumn
from services.roadmap.scenarios.idea_rows import AccountabilityWarning, IdeaRow
from services.roadmap.scenarios.patch import ObjectivePatch, PhasePatch, SolverPatch, TeamPatch

Name = Annotated[str, Meta(min_length=1, max_length=200)]


class Input(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies."""


class Output(msgspec.Struct, rename="camel", kw_only=True):
    """Base of response bodies."""


class ScenarioIn(Input, kw_only=True):
    """A new scenario on the scores of a scoring model version (the latest when absent)."""

    name: Name
    portfolio_id: UUID
    model_id: UUID
    model_version: Annotated[int, Meta(ge=1)] | None = None
    phases: Annotated[list[PhaseDoc], Meta(min_length=1, max_length=20)]
    teams: Annotated[list[TeamDoc], Meta(max_length=200)] = msgspec.field(default_factory=list)
    constraints: Annotated[list[ConstraintDoc], Meta(max_length=20_000)] = msgspec.field(default_factory=list)
    objective: ObjectiveDoc = msgspec.field(default_factory=ObjectiveDoc)
    solver: SolverDoc = msgspec.field(default_factory=SolverDoc)
    # "apply": scale each idea's cost and effort by its teams' calibration (services/roadmap/scenarios/calibrate.py).
    calibration: Literal["none", "apply"] = "none"
    quick_wins_only: Annotated[
        list[str],
        Meta(
            max_length=4,
            description="phases kept for quick wins: an idea whose quadrant under the model is not "
            'quickWin is not eligible for them (e.g. ["improve"])',
        ),
    ] = msgspec.field(default_factory=list)


class ScenarioPatch(Input):
    """Change settings by key; what the patch does not name stays (docs/api.md: the merge rules).

    Phases and teams merge by `key`, constraints by their kind and ideas; an entry with
    `"remove": true` takes one out. Ideas and their values stay as frozen.
    """

    name: Name | msgspec.UnsetType = msgspec.UNSET
    phases: Annotated[list[PhasePatch], Meta(min_length=1, max_length=20)] | msgspec.UnsetType = msgspec.UNSET
    teams: Annotated[list[TeamPatch], Meta(max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    constraints: (
        Annotated[
            list[dict[str, Any]],
            Meta(
                max_length=20_000,
                description="constraints as in the scenario document, each optionally with `remove: true`",
            ),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    objective: ObjectivePatch | msgspec.UnsetType = msgspec.UNSET
    solver: SolverPatch | msgspec.UnsetType = msgspec.UNSET


class ScenarioClone(Input):
    name: Name


class ReplanIn(Input):
    """A re-plan of an approved plan: its scenario again, with the plan as a baseline to keep.

    Budgets start from what the leaders approved; `phases` changes some, merged by key as a
    scenario patch does.
    """

    name: Name
    move_penalty: Annotated[float, Meta(ge=0, le=1e12)]
    phases: Annotated[list[PhasePatch], Meta(min_length=1, max_length=20)] | msgspec.UnsetType = msgspec.UNSET


class ScenarioImport(Input):
    """A scenario from a scenario document (DESIGN section 5), e.g. one exported earlier."""

    portfolio_id: UUID
    document: dict[str, Any]


class SkippedOut(Output):
    idea: str
    reason: str


class TeamLeftOutOut(Output):
    """A team the scenario's ideas need but the scenario does not constrain: its effort counts nowhere."""

    team: str
    ideas: list[str]
    effort: float


class StaleEstimatesOut(Output):
    ideas: list[str]
    planned: int
    summary: str


class ScenarioOut(Output):
    id: UUID
    portfolio_id: UUID
    name: str
    source: dict[str, Any]
    revision: int
    fingerprint: str
    idea_count: int
    skipped: list[SkippedOut]
    teams_left_out: list[TeamLeftOutOut]
    # Of the planned ideas, those whose estimates were stale when the scores were taken.
    stale_estimates: StaleEstimatesOut | None
    # With calibration applied: the factors per team and each idea's cost and effort before and after.
    calibration: dict[str, Any] | None
    warnings: list[AccountabilityWarning]
    phases: list[PhaseDoc]
    teams: list[TeamDoc]
    constraints: list[ConstraintDoc]
    objective: ObjectiveDoc
    solver: SolverDoc
    locked: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


class ScenarioPage(Output):
    items: list[ScenarioOut]
    total: int
    page: int
    page_size: int


class RunIn(Input):
    """Optional overrides of the scenario's solver settings for this run."""

    time_limit_seconds: Annotated[float, Meta(gt=0, le=600)] | None = None
    relative_gap: Annotated[float, Meta(ge=0, lt=1)] | None = None


class RunSummary(Output):
    """A run's headline. With a baseline (a re-plan), `bestBound` and `gap` bound
    `objectiveWithPenalty` (the value minus `penalty`, the move penalty the plan pays), which is
    what the solver maximised; `objective` is the plan's value, comparable with other runs."""

    status: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    objective_with_penalty: float | None = None
    penalty: float | None = None


class RunOut(Output):
    id: UUID
    scenario_id: UUID
    kind: str
    base_run_id: UUID | None
    status: str
    progress: dict[str, Any]
    summary: RunSummary | None
    error: str | None
    input_fingerprint: str
    solver_name: str | None
    solver_version: str | None
    attempts: int
    cancel_requested: bool
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunPage(Output):
    items: list[RunOut]
    total: int
    page: int
    page_size: int


class Comparison(Output):
    """The optimisation runs side by side, each against the first, and the runs that could not be;
    `ideas` has a row (title, owner, value, KPIs, ...) for every idea added, removed or moved."""

    runs: list[RunColumn]
    not_compared: list[NotCompared]
    ideas: list[IdeaRow]
