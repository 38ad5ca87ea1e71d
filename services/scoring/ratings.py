"""Stakeholder ratings and what they add up to: pure rules, no I/O.

Each department of a portfolio speaks with one voice per criterion: the mean of its raters.
The portfolio's view of a criterion is the mean of those department means, weighted by the
departments' weights, so a department with many raters cannot outvote the others. Spreads
are ranges (highest minus lowest), on the 0..10 scale the ratings use.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Final

import msgspec

from services.scoring.errors import DomainError

KEY: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Department(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A department whose people rate ideas; customer-facing ones meet customers every day.
    Stored as the API spells it (camelCase)."""

    key: str
    name: str
    customer_facing: bool = False
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not KEY.fullmatch(self.key):
            raise DomainError(f"{self.key!r} is not a key (letters, digits, . _ -)", field="key")
        if not self.name.strip():
            raise DomainError("must not be blank", field="name")
        if not math.isfinite(self.weight) or self.weight <= 0:
            raise DomainError(f"must be a finite number above 0, got {self.weight!r}", field="weight")


def check_departments(departments: Sequence[Department]) -> None:
    """Each key once (DomainError naming the place)."""
    seen: set[str] = set()
    for index, department in enumerate(departments):
        if department.key in seen:
            raise DomainError(f"department {department.key!r} appears twice", field=f"departments[{index}].key")
        seen.add(department.key)


class Rating(msgspec.Struct, frozen=True, kw_only=True):
    """One subject's view of one idea on one criterion, 0..10, given for a department."""

    criterion: str
    subject: str
    department: str
    value: float
    comment: str = ""


class DepartmentVoice(msgspec.Struct, frozen=True, kw_only=True):
    """A department's ratings of one criterion of one idea."""

    department: str
    weight: float
    customer_facing: bool
    mean: float
    count: int
    spread: float
    raters: tuple[str, ...]


class Voices(msgspec.Struct, frozen=True):
    """An idea's ratings by criterion, one voice per listed department (in key order)."""

    criteria: dict[str, tuple[DepartmentVoice, ...]] = {}

    def value_of(self, criterion: str) -> float | None:
        """The departments' weighted mean of their means; None when nobody rated it."""
        voices = self.criteria.get(criterion, ())
        if not voices:
            return None
        total = math.fsum(voice.weight for voice in voices)
        return math.fsum(voice.weight * voice.mean for voice in voices) / total

    def spread_of(self, criterion: str) -> float | None:
        """How far the department means lie apart; None below two departments."""
        means = [voice.mean for voice in self.criteria.get(criterion, ())]
        return max(means) - min(means) if len(means) >= 2 else None

    def disagreement(self, criteria: Iterable[str] | None = None) -> float | None:
        """The largest spread of department means over `criteria` (every rated one if None)."""
        names = self.criteria.keys() if criteria is None else criteria
        spreads = [spread for name in names if (spread := self.spread_of(name)) is not None]
        return max(spreads) if spreads else None

    def customer_facing_heard(self, criteria: Iterable[str]) -> set[str]:
        """The customer-facing departments that rated any of `criteria`."""
        return {voice.department for name in criteria for voice in self.criteria.get(name, ()) if voice.customer_facing}


NO_VOICES: Final = Voices()


def voices_of(ratings: Iterable[Rating], departments: Sequence[Department]) -> Voices:
    """The voices of an idea's ratings. Ratings for a department the portfolio no longer lists
    count nowhere (they are kept, and count again if the department comes back)."""
    listed = {department.key: department for department in departments}
    grouped: dict[str, dict[str, list[Rating]]] = {}
    for rating in ratings:
        if rating.department in listed:
            grouped.setdefault(rating.criterion, {}).setdefault(rating.department, []).append(rating)
    criteria = {}
    for criterion in sorted(grouped):
        voices = []
        for key in sorted(grouped[criterion]):
            given = grouped[criterion][key]
            values = [rating.value for rating in given]
            department = listed[key]
            voices.append(
                DepartmentVoice(
                    department=key,
                    weight=department.weight,
                    customer_facing=department.customer_facing,
                    mean=math.fsum(values) / len(values),
                    count=len(values),
                    spread=max(values) - min(values),
                    raters=tuple(sorted(rating.subject for rating in given)),
                )
            )
        criteria[criterion] = tuple(voices)
    return Voices(criteria)
