"""What every scoring model shares: the score it gives, its breakdown, and its quadrant thresholds.

Kept apart from `formulas` so that model kinds living in their own modules (the stakeholder
model) share these types without importing each other.
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec

from services.scoring.errors import DomainError


class Contribution(msgspec.Struct, frozen=True):
    """One additive part of a score: what it is, the inputs it read and what it adds."""

    criterion: str
    inputs: dict[str, float]
    contribution: float


class Scored(msgspec.Struct, frozen=True):
    """A score and its breakdown; the contributions add up to `value`.

    `insufficient` says why the score stands on too little input (the stakeholder model heard
    too few customer-facing departments): the idea is ranked, but flagged.
    """

    value: float
    breakdown: tuple[Contribution, ...]
    insufficient: str | None = None


class Unscored(msgspec.Struct, frozen=True):
    """Why an idea has no score: the missing inputs or a reason."""

    missing: tuple[str, ...]
    reason: str


class Quadrants(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Where a model splits high from low value and effort; a threshold left out is the
    portfolio's median under the model."""

    value: float | None = None
    effort: float | None = None
    effort_field: Literal["effort", "cost"] = "effort"

    def __post_init__(self) -> None:
        for name in ("value", "effort"):
            threshold = getattr(self, name)
            if threshold is not None and not math.isfinite(threshold):
                raise DomainError("must be a finite number", field=f"quadrants.{name}")
        if self.effort_field not in ("effort", "cost"):
            raise DomainError("must be 'effort' or 'cost'", field="quadrants.effortField")


class ModelBase(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True, tag_field="kind"
):
    """What every model shares: its wire shape, and optional quadrant thresholds (left out of
    a stored definition when not set, so older definitions read the same)."""

    quadrants: Quadrants | msgspec.UnsetType = msgspec.UNSET
