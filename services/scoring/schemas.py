"""Request and response bodies of the scoring API: camelCase on the wire, unknown fields rejected."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from services.kit.patterns import whole
from services.scoring.formulas import Contribution

PhaseKey = Literal["discovery", "improve", "perfection", "personalization"]
Ref = Annotated[
    str, Meta(pattern=whole(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"), description="The idea's own key, e.g. I-17")
]
ShortText = Annotated[str, Meta(max_length=200)]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
LongText = Annotated[str, Meta(max_length=5000)]
TeamKey = Annotated[str, Meta(pattern=whole(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}"))]
Tag = Annotated[str, Meta(min_length=1, max_length=64)]
ZeroToTen = Annotated[float, Meta(ge=0, le=10)]
NonNegative = Annotated[float, Meta(ge=0, le=1e15)]
Currency = Annotated[str, Meta(pattern=whole(r"[A-Z]{3}"), description="ISO 4217 code, e.g. EUR")]
PageSize = Annotated[int, Meta(ge=1, le=1000)]
ReviewDays = Annotated[int, Meta(ge=1, le=3650, description="estimates older than this many days are stale")]
Quadrant = Literal["quickWin", "majorProject", "fillIn", "moneyPit"]


class Input(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies."""


class Output(msgspec.Struct, rename="camel", kw_only=True):
    """Base of response bodies."""


# --- portfolios -------------------------------------------------------------------------


class PhaseLabels(Input, frozen=True):
    discovery: ShortText = "Discovery"
    improve: ShortText = "Improve"
    perfection: ShortText = "Perfection"
    personalization: ShortText = "Personalization"


class DepartmentIn(Input, frozen=True):
    """A department whose people rate ideas; its weight counts its voice among the others."""

    key: Annotated[str, Meta(pattern=whole(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"), description="e.g. branches")]
    name: Title
    customer_facing: bool = False
    weight: Annotated[float, Meta(gt=0, le=1000)] = 1.0


Departments = Annotated[list[DepartmentIn], Meta(max_length=100)]


class PortfolioIn(Input):
    name: Title
    currency: Currency = "EUR"
    phase_labels: PhaseLabels = msgspec.field(default_factory=PhaseLabels)
    review_every_days: ReviewDays = 90
    departments: Departments = msgspec.field(default_factory=list)


class PortfolioPatch(Input):
    name: Title | msgspec.UnsetType = msgspec.UNSET
    currency: Currency | msgspec.UnsetType = msgspec.UNSET
    phase_labels: PhaseLabels | msgspec.UnsetType = msgspec.UNSET
    review_every_days: ReviewDays | msgspec.UnsetType = msgspec.UNSET
    departments: Departments | msgspec.UnsetType = msgspec.UNSET


class PhaseOut(Output):
    key: str
    label: str


class PortfolioOut(Output):
    id: UUID
    name: str
    currency: str
    phases: list[PhaseOut]
    departments: list[DepartmentIn]
    idea_count: int
    created_at: datetime
    updated_at: datetime
    review_every_days: int = 90


class PortfolioPage(Output):
    items: list[PortfolioOut]
    total: int
    page: int
    page_size: int


# --- ideas ------------------------------------------------------------------------------


class JourneyIn(Input, frozen=True):
    persona: ShortText | None = None
    journey_stage: ShortText | None = None
    touchpoint: ShortText | None = None
    channel: ShortText | None = None
    pain_point: Annotated[str, Meta(max_length=1000)] | None = None
    department: ShortText | None = None


class EstimatesIn(Input, frozen=True):
    customer_impact: ZeroToTen | None = None
    reach: NonNegative | None = None
    confidence: Annotated[float, Meta(ge=0, le=1)] | None = None
    effort: Annotated[dict[TeamKey, NonNegative], Meta(max_length=50)] = msgspec.field(default_factory=dict)
    cost: NonNegative | None = None
    annual_benefit: NonNegative | None = None
    time_criticality: ZeroToTen | None = None
    risk_reduction: ZeroToTen | None = None


class OwnerIn(Input, frozen=True):
    """The person accountable for the idea, with the power to act on it."""

    subject: Annotated[str, Meta(min_length=1, max_length=200, description="their subject at the identity provider")]
    name: Title
    email: Annotated[str, Meta(max_length=254, pattern=whole(r"[^@\s]+@[^@\s]+"))] | None = None
    department: ShortText | None = None


class KpiIn(Input, frozen=True):
    """A measured outcome of the idea (the practice's MBOs): what moves, which way, from where to where."""

    key: Annotated[str, Meta(pattern=whole(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"), description="e.g. nps")]
    name: Title
    unit: ShortText = ""
    direction: Literal["increase", "decrease"] = "increase"
    baseline: Annotated[float, Meta(ge=-1e15, le=1e15)] | None = None
    target: Annotated[float, Meta(ge=-1e15, le=1e15)] | None = None


Kpis = Annotated[list[KpiIn], Meta(max_length=20)]


class IdeaFields(Input):
    """What a user may set on an idea (the ref comes from the path when updating)."""

    title: Title
    description: LongText = ""
    # Factories, not shared default instances: Litestar's OpenAPI generator hashes defaults.
    journey: JourneyIn = msgspec.field(default_factory=JourneyIn)
    estimates: EstimatesIn = msgspec.field(default_factory=EstimatesIn)
    phases: Annotated[list[PhaseKey], Meta(min_length=1, max_length=4)] | None = None
    tags: Annotated[list[Tag], Meta(max_length=30)] = msgspec.field(default_factory=list)
    owner: OwnerIn | None = None
    kpis: Kpis = msgspec.field(default_factory=list)


class IdeaIn(IdeaFields, kw_only=True):
    ref: Ref


class IdeaPatch(Input):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: LongText | msgspec.UnsetType = msgspec.UNSET
    journey: JourneyIn | msgspec.UnsetType = msgspec.UNSET
    estimates: EstimatesIn | msgspec.UnsetType = msgspec.UNSET
    phases: Annotated[list[PhaseKey], Meta(min_length=1, max_length=4)] | msgspec.UnsetType = msgspec.UNSET
    tags: Annotated[list[Tag], Meta(max_length=30)] | msgspec.UnsetType = msgspec.UNSET
    owner: OwnerIn | None | msgspec.UnsetType = msgspec.UNSET
    kpis: Kpis | msgspec.UnsetType = msgspec.UNSET


class IdeasBulkIn(Input):
    ideas: Annotated[list[IdeaIn], Meta(min_length=1, max_length=1000)]


class IdeaOut(Output):
    id: UUID
    ref: str
    title: str
    description: str
    journey: JourneyIn
    estimates: EstimatesIn
    phases: list[str]
    tags: list[str]
    owner: OwnerIn | None
    kpis: list[KpiIn]
    created_at: datetime
    updated_at: datetime
    # When and by whom the estimates were made; stale: older than the portfolio's review
    # cadence now; staleSince: when they became so, as the periodic review check recorded.
    estimated_at: datetime | None = None
    estimated_by: str | None = None
    stale: bool = False
    stale_since: datetime | None = None


class IdeaPage(Output):
    items: list[IdeaOut]
    total: int
    page: int
    page_size: int


class IdeasCreated(Output):
    created: int
    refs: list[str]


class FacetValue(Output, omit_defaults=True):
    value: str
    ideas: int
    # Personas, journey stages and touchpoints only: when the value was last reviewed, by whom,
    # and whether that is longer ago than the portfolio's review cadence (or never).
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    review_due: bool | None = None


class JourneyMap(Output):
    """What the backlog's journey context holds: each value in use, with its number of ideas
    (most first). Filters on the ideas list match these values, ignoring case."""

    personas: list[FacetValue]
    journey_stages: list[FacetValue]
    touchpoints: list[FacetValue]
    channels: list[FacetValue]
    departments: list[FacetValue]
    tags: list[FacetValue]


class ImportResult(Output):
    created: int
    updated: int
    unchanged: int


# --- scoring models ---------------------------------------------------------------------


class ModelIn(Input):
    name: Title
    definition: dict[str, Any]


class ModelUpdate(Input):
    definition: dict[str, Any]


class ModelVersionOut(Output):
    id: UUID
    version: int
    definition: dict[str, Any]
    created_by: str
    created_at: datetime


class ModelOut(Output):
    id: UUID
    name: str
    latest: ModelVersionOut
    versions: int
    created_at: datetime


class IdeaScoreOut(Output):
    model_id: UUID
    model_name: str
    model_version: int
    score: float | None
    breakdown: list[Contribution]
    missing: list[str]
    reason: str | None
    insufficient_input: bool = False
    warning: str | None = None


class RankedIdea(Output, gc=False):
    # Untracked by the garbage collector: a ranking page builds a thousand, which set off
    # collections otherwise. Its lists hold only strings and contributions: it is in no cycle.

    rank: int | None
    ref: str
    title: str
    score: float | None
    breakdown: list[Contribution]
    missing: list[str]
    reason: str | None
    persona: str | None
    journey_stage: str | None
    touchpoint: str | None
    stale: bool = False
    insufficient_input: bool = False
    warning: str | None = None
    disagreement: float | None = None
    quadrant: Quadrant | None = None


class QuadrantThresholds(Output):
    """The split between high and low value (score) and effort; `fromMedian` says which were
    taken from the portfolio's medians rather than set on the model."""

    value: float | None
    effort: float | None
    effort_field: str
    from_median: list[str]


class RankingOut(Output):
    model_id: UUID
    model_name: str
    model_version: int
    model_version_id: UUID
    items: list[RankedIdea]
    total: int
    scored: int
    unscored: int
    page: int
    page_size: int
    next_cursor: str | None
    quadrants: QuadrantThresholds | None = None


class SnapshotIdea(Output):
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
    stale: bool = False
    owner: OwnerIn | None = None
    kpis: list[KpiIn] = msgspec.field(default_factory=list)
    quadrant: Quadrant | None = None
    insufficient_input: bool = False


class ScoreSnapshot(Output):
    """Everything another service needs to plan with the scores of one model version."""

    portfolio_id: UUID
    currency: str
    model_id: UUID
    model_name: str
    model_version: int
    model_version_id: UUID
    ideas: list[SnapshotIdea]
