"""Pure rules of the idea backlog: phases, journey context and estimates.

Nothing here touches the network or the database. The structs are frozen and
check their own invariants, so an idea that exists in memory is a valid idea.
"""

from __future__ import annotations

import math
from typing import Final

import msgspec

from services.scoring.accountability import Kpi, Owner, check_kpis
from services.scoring.errors import DomainError

PHASES: Final[tuple[str, ...]] = ("discovery", "improve", "perfection", "personalization")
"""The four programme phases, in time order."""

DEFAULT_PHASE_LABELS: Final[dict[str, str]] = {
    "discovery": "Discovery",
    "improve": "Improve",
    "perfection": "Perfection",
    "personalization": "Personalization",
}

ESTIMATE_FIELDS: Final[tuple[str, ...]] = (
    "customer_impact",
    "reach",
    "confidence",
    "effort",
    "cost",
    "annual_benefit",
    "time_criticality",
    "risk_reduction",
)
"""Names a scoring formula may use. `effort` is the total over all teams."""

# Closed ranges of the bounded estimates: (low, high). Unbounded ones only need >= 0.
ESTIMATE_RANGES: Final[dict[str, tuple[float, float]]] = {
    "customer_impact": (0.0, 10.0),
    "confidence": (0.0, 1.0),
    "time_criticality": (0.0, 10.0),
    "risk_reduction": (0.0, 10.0),
    "reach": (0.0, math.inf),
    "cost": (0.0, math.inf),
    "annual_benefit": (0.0, math.inf),
}


class Estimates(msgspec.Struct, frozen=True, kw_only=True):
    """What the workshop estimated for an idea. `None` means not estimated, never zero."""

    customer_impact: float | None = None
    reach: float | None = None
    confidence: float | None = None
    effort: dict[str, float] = {}
    cost: float | None = None
    annual_benefit: float | None = None
    time_criticality: float | None = None
    risk_reduction: float | None = None

    def __post_init__(self) -> None:
        for name, (low, high) in ESTIMATE_RANGES.items():
            value = getattr(self, name)
            if value is None:
                continue
            if not math.isfinite(value) or not low <= value <= high:
                bound = f"between {low:g} and {high:g}" if math.isfinite(high) else f"at least {low:g}"
                raise DomainError(f"must be {bound}, got {value!r}", field=f"estimates.{name}")
        for team, days in self.effort.items():
            if not team.strip():
                raise DomainError("team names must not be blank", field="estimates.effort")
            if not math.isfinite(days) or days < 0:
                raise DomainError(f"must be at least 0, got {days!r}", field=f"estimates.effort.{team}")

    @property
    def total_effort(self) -> float | None:
        """Effort summed over teams; `None` when no team was estimated."""
        return sum(self.effort.values()) if self.effort else None

    def value_of(self, name: str) -> float | None:
        """The estimate called `name` as a formula sees it (`effort` is the team total)."""
        if name == "effort":
            return self.total_effort
        return getattr(self, name)


class JourneyContext(msgspec.Struct, frozen=True, kw_only=True):
    """Where in the customer journey the idea helps."""

    persona: str | None = None
    journey_stage: str | None = None
    touchpoint: str | None = None
    channel: str | None = None
    pain_point: str | None = None
    department: str | None = None


class IdeaDraft(msgspec.Struct, frozen=True, kw_only=True):
    """An idea as a user writes it, before the database gives it an identity."""

    ref: str
    title: str
    description: str = ""
    journey: JourneyContext = JourneyContext()
    estimates: Estimates = Estimates()
    phases: tuple[str, ...] = PHASES
    tags: tuple[str, ...] = ()
    owner: Owner | None = None
    kpis: tuple[Kpi, ...] = ()

    def __post_init__(self) -> None:
        if not self.ref.strip():
            raise DomainError("must not be blank", field="ref")
        if not self.title.strip():
            raise DomainError("must not be blank", field="title")
        if not self.phases:
            raise DomainError("an idea needs at least one eligible phase", field="phases")
        for index, phase in enumerate(self.phases):
            if phase not in PHASES:
                raise DomainError(
                    f"unknown phase {phase!r}; expected one of {', '.join(PHASES)}",
                    field=f"phases[{index}]",
                )
        if len(set(self.phases)) != len(self.phases):
            raise DomainError("phases must not repeat", field="phases")
        if any(not tag.strip() for tag in self.tags):
            raise DomainError("tags must not be blank", field="tags")
        check_kpis(self.kpis)


def ordered_phases(phases: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Phases sorted into time order, so equal sets always read the same."""
    return tuple(phase for phase in PHASES if phase in phases)
