"""What every scoring model shares: the score it gives, its breakdown, and its quadrant thresholds.

Kept apart from `formulas` so that model kinds living in their own modules (the stakeholder
model) share these types without importing each other.
"""

from __future__ import annotations

import math
from typing import Final, Literal

import msgspec

from services.scoring.errors import DomainError


class Contribution(msgspec.Struct, frozen=True):
    """One additive part of a score: what it is, the inputs it read and what it adds."""

    criterion: str
    inputs: dict[str, float]
    contribution: float


SCORE_DIGITS: Final = 10
"""Significant digits a score and its contributions are shown with. Scores are stored as
computed; a sum of binary fractions carries noise in its last digits (0.23 + 0.46 is
0.6900000000000001), which an answer should not show. Ten digits keep every real difference
between two estimates and drop the noise."""


def shown(value: float | None) -> float | None:
    """`value` at SCORE_DIGITS significant digits; None stays None."""
    if value is None or value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{SCORE_DIGITS}g}")


def shown_all(values: list[float | None]) -> list[float | None]:
    """Each of `values` as `shown` gives it, by one format call: a call of `shown` per row was a
    large part of a ranking page's time in Python (issue 14)."""
    present = [value for value in values if value is not None]
    rounded = map(float, (f"{{:.{SCORE_DIGITS}g}} " * len(present)).format(*present).split())
    return [None if value is None else next(rounded) for value in values]


def shown_breakdown(breakdown: list[Contribution]) -> list[Contribution]:
    return [msgspec.structs.replace(part, contribution=shown(part.contribution)) for part in breakdown]


_decode_breakdown = msgspec.json.Decoder(list[Contribution]).decode


def shown_breakdown_json(breakdown: str) -> str:
    """A breakdown's JSON as every answer shows it: stored with each score, so a ranking page
    copies it into its answer instead of decoding and rounding it (migration 0025)."""
    return msgspec.json.encode(shown_breakdown(_decode_breakdown(breakdown))).decode()


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
