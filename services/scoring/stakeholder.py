"""The stakeholder scoring model: what the departments say, each department counted once.

    score = sum over criteria c of  weight_c * V_c
    V_c   = sum over departments d that rated c of  w_d * mean_{d,c}  /  sum of those w_d

where mean_{d,c} is the mean of department d's raters and w_d the department's weight. The
breakdown has one contribution per criterion and department, `weight_c * w_d * mean_{d,c} /
sum w`, so it shows what each department added; the contributions add up to the score. An idea
that fewer than `minCustomerFacing` customer-facing departments rated is scored, but flagged.
"""

from __future__ import annotations

import math
from typing import Final

import msgspec

from services.scoring.errors import DomainError
from services.scoring.ratings import KEY, Voices
from services.scoring.score_types import Contribution, ModelBase, Scored, Unscored

PREFIX: Final = "stakeholder:"
"""How another model names a stakeholder criterion among its inputs: `stakeholder:customerValue`."""


class StakeholderCriterion(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    criterion: str
    weight: float = 1.0


class StakeholderModel(ModelBase, tag="stakeholder"):
    """Weighted criteria the departments rate 0..10; see the module's docstring."""

    criteria: tuple[StakeholderCriterion, ...]
    min_customer_facing: int = 1

    def __post_init__(self) -> None:
        if not self.criteria:
            raise DomainError("a stakeholder model needs at least one criterion", field="criteria")
        seen: set[str] = set()
        for index, item in enumerate(self.criteria):
            where = f"criteria[{index}]"
            if not KEY.fullmatch(item.criterion):
                raise DomainError(f"{item.criterion!r} is not a criterion key", field=f"{where}.criterion")
            if item.criterion in seen:
                raise DomainError(f"{item.criterion!r} appears twice", field=f"{where}.criterion")
            seen.add(item.criterion)
            if not math.isfinite(item.weight):
                raise DomainError("must be a finite number", field=f"{where}.weight")
        if self.min_customer_facing < 0:
            raise DomainError("must be at least 0", field="minCustomerFacing")

    def rated_criteria(self) -> tuple[str, ...]:
        return tuple(item.criterion for item in self.criteria)

    def score_voices(self, voices: Voices) -> Scored | Unscored:
        missing = tuple(PREFIX + item.criterion for item in self.criteria if not voices.criteria.get(item.criterion))
        if missing:
            return Unscored(missing, f"no ratings yet for: {', '.join(name.removeprefix(PREFIX) for name in missing)}")
        parts = []
        total = 0.0
        for item in self.criteria:
            heard = voices.criteria[item.criterion]
            weights = math.fsum(voice.weight for voice in heard)
            for voice in heard:
                part = item.weight * voice.weight * voice.mean / weights
                total += part
                inputs = {
                    "mean": voice.mean,
                    "raters": float(voice.count),
                    "departmentWeight": voice.weight,
                    "share": voice.weight / weights,
                    "criterionWeight": item.weight,
                }
                parts.append(Contribution(f"{item.criterion}:{voice.department}", inputs, part))
        if not math.isfinite(total):
            return Unscored((), "the result is not a finite number")
        heard_from = voices.customer_facing_heard(self.rated_criteria())
        insufficient = None
        if len(heard_from) < self.min_customer_facing:
            insufficient = (
                f"rated by {len(heard_from)} customer-facing department(s); "
                f"the model asks for at least {self.min_customer_facing}"
            )
        return Scored(total, tuple(parts), insufficient)


def stakeholder_input(name: str) -> str | None:
    """The criterion a `stakeholder:<criterion>` input names, or None for any other name."""
    return name.removeprefix(PREFIX) if name.startswith(PREFIX) else None


def check_stakeholder_input(name: str, field: str) -> None:
    criterion = name.removeprefix(PREFIX)
    if not KEY.fullmatch(criterion):
        raise DomainError(f"{criterion!r} is not a criterion key", field=field)
