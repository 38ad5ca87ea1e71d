"""The quick-win quadrant of a ranked idea: high or low value against high or low effort.

Value is the idea's score under the model; effort is its total effort over teams (or its cost,
if the model says so). A threshold the model does not set is the median over the ideas that
have both a score and that effort. High value is a score at or above its threshold; low effort
is an effort at or below its threshold.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

QUADRANTS: Final = ("quickWin", "majorProject", "fillIn", "moneyPit")
Quadrant = Literal["quickWin", "majorProject", "fillIn", "moneyPit"]


class Thresholds(msgspec.Struct, frozen=True, array_like=True):
    """Where value and effort split; None when no idea has both (then no idea has a quadrant)."""

    value: float | None
    effort: float | None
    effort_field: str
    from_median: tuple[str, ...]


def classify(score: float | None, effort: float | None, thresholds: Thresholds) -> Quadrant | None:
    """The idea's quadrant, or None when it has no score or no effort, or nothing splits."""
    if score is None or effort is None or thresholds.value is None or thresholds.effort is None:
        return None
    high_value = score >= thresholds.value
    low_effort = effort <= thresholds.effort
    if high_value:
        return "quickWin" if low_effort else "majorProject"
    return "fillIn" if low_effort else "moneyPit"


def effort_of(effort_field: str, cost: float | None, total_effort: float | None) -> float | None:
    """The effort a quadrant reads: the idea's cost, or its effort summed over teams."""
    return cost if effort_field == "cost" else total_effort
