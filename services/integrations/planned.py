"""What an approved plan holds for a push: its phases, ideas (with owners and KPIs) and dependencies.

Pure (standard library and msgspec only), shared by the payload builders (payloads.py) and the
rich-text builders (adf.py), which import this module and never each other's.
"""

from __future__ import annotations

import math
from datetime import date

import msgspec


class MappingError(Exception):
    """Input for a push breaks a rule; `field` names which setting or value, in the API's terms."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Contribution(msgspec.Struct, frozen=True, kw_only=True):
    """How much one scoring criterion added to an idea's score."""

    criterion: str
    contribution: float


class Owner(msgspec.Struct, frozen=True, kw_only=True):
    """Who answers for an idea; `email` is how the push finds their Jira account."""

    subject: str
    name: str
    email: str | None = None
    department: str | None = None


class Kpi(msgspec.Struct, frozen=True, kw_only=True):
    """How an idea's success is measured: a KPI moved from `baseline` towards `target`."""

    key: str
    name: str
    unit: str = ""
    direction: str = "increase"
    baseline: float | None = None
    target: float | None = None


class PlannedIdea(msgspec.Struct, frozen=True, kw_only=True):
    """An idea in the approved plan: where it sits, how it scored, its journey context, who
    answers for it, how its success is measured, and when its phase ends (`due`)."""

    ref: str
    title: str
    phase: str
    rank: int
    score: float | None = None
    model: str | None = None  # the scoring model's name, shown beside the breakdown
    breakdown: tuple[Contribution, ...] = ()
    persona: str | None = None
    journey_stage: str | None = None
    touchpoint: str | None = None
    pain_point: str | None = None
    cost: float | None = None
    owner: Owner | None = None
    kpis: tuple[Kpi, ...] = ()
    due: date | None = None

    def __post_init__(self) -> None:
        if not self.ref.strip():
            raise MappingError("an idea needs a ref", field="ref")
        if not self.title.strip():
            raise MappingError("an idea needs a title", field="title")
        if not self.phase.strip():
            raise MappingError("an idea needs a phase", field="phase")
        if self.rank < 1:
            raise MappingError("rank starts at 1 (the best idea)", field="rank")
        # JSON has no NaN or infinity, and Jira's number fields reject them.
        for name in ("score", "cost"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise MappingError("must be a finite number", field=name)
        if any(not math.isfinite(c.contribution) for c in self.breakdown):
            raise MappingError("contributions must be finite numbers", field="breakdown")
        if any(v is not None and not math.isfinite(v) for k in self.kpis for v in (k.baseline, k.target)):
            raise MappingError("KPI baselines and targets must be finite numbers", field="kpis")


class PlannedPhase(msgspec.Struct, frozen=True, kw_only=True):
    """A phase of the approved plan; it becomes an epic when it holds ideas."""

    key: str
    label: str
    budget: float
    spend: float
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if not self.key.strip():
            raise MappingError("a phase needs a key", field="key")
        if not self.label.strip():
            raise MappingError("a phase needs a label", field="label")
        if not (math.isfinite(self.budget) and math.isfinite(self.spend)):
            raise MappingError("budget and spend must be finite numbers", field="budget")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise MappingError("a phase cannot end before it starts", field="end")


class Dependency(msgspec.Struct, frozen=True, kw_only=True):
    """`idea` requires `on`: `on` must be done first, so in Jira `on` BLOCKS `idea`."""

    idea: str
    on: str
