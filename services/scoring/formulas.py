"""Scoring models and how they score an idea.

A model is a frozen struct; `ScoringModel` is the tagged union the API decodes a definition
into (`{"kind": "rice"}`, ...). Scores are absolute: `score_idea` sees one idea's estimates
and the model, nothing else. Each score is the sum of its breakdown, added left to right, so
the contributions shown always add up exactly to the score shown.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Final, Literal

import msgspec

from services.scoring import expression
from services.scoring.domain import ESTIMATE_FIELDS, DomainError, Estimates
from services.scoring.ratings import NO_VOICES, Voices
from services.scoring.score_types import Contribution, ModelBase, Quadrants, Scored, Unscored
from services.scoring.stakeholder import PREFIX, StakeholderModel, check_stakeholder_input, stakeholder_input

__all__ = ["Contribution", "Quadrants", "Scored", "ScoringModel", "StakeholderModel", "Unscored"]

_RANK: Final[dict[str, int]] = {name: index for index, name in enumerate(ESTIMATE_FIELDS)}


class _Model(ModelBase):
    """What every model shares: its wire shape."""


def _positive(value: float, field: str) -> None:
    if not math.isfinite(value) or value <= 0:
        raise DomainError(f"must be a finite number above 0, got {value!r}", field=field)


def _estimate(name: str, field: str) -> None:
    if name not in _RANK:
        raise DomainError(f"unknown estimate {name!r}; expected one of {', '.join(ESTIMATE_FIELDS)}", field=field)


class Criterion(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """One weighted criterion; with a scale, the value is first mapped to 0..1 on it."""

    field: str
    weight: float
    scale_min: float | None = None
    scale_max: float | None = None


class WeightedModel(_Model, tag="weighted"):
    """Sum of weight x value (or weight x value rescaled on a fixed scale) per criterion."""

    criteria: tuple[Criterion, ...]

    def __post_init__(self) -> None:
        if not self.criteria:
            raise DomainError("a weighted model needs at least one criterion", field="criteria")
        seen: set[str] = set()
        for index, criterion in enumerate(self.criteria):
            where = f"criteria[{index}]"
            if stakeholder_input(criterion.field) is not None:
                check_stakeholder_input(criterion.field, f"{where}.field")
            else:
                _estimate(criterion.field, f"{where}.field")
            if criterion.field in seen:
                raise DomainError(f"{criterion.field!r} appears twice", field=f"{where}.field")
            seen.add(criterion.field)
            if not math.isfinite(criterion.weight):
                raise DomainError("must be a finite number", field=f"{where}.weight")
            low, high = criterion.scale_min, criterion.scale_max
            if (low is None) != (high is None):
                raise DomainError("scaleMin and scaleMax go together", field=f"{where}.scaleMin")
            if low is not None and high is not None:
                if not (math.isfinite(low) and math.isfinite(high)):
                    raise DomainError("must be finite numbers", field=f"{where}.scaleMin")
                if not low < high:
                    raise DomainError("must be above scaleMin", field=f"{where}.scaleMax")

    def _required(self) -> tuple[str, ...]:
        return _ordered(criterion.field for criterion in self.criteria)

    def _score(self, estimates: Estimates, voices: Voices) -> Scored | Unscored:
        parts = []
        total = 0.0
        for criterion in self.criteria:
            value = _input(criterion.field, estimates, voices)
            if value is None:
                return _missing(self, estimates, voices)
            if criterion.scale_min is None:
                part = criterion.weight * value
            else:
                span = criterion.scale_max - criterion.scale_min  # type: ignore[operator]
                part = criterion.weight * (value - criterion.scale_min) / span
            total += part
            parts.append(Contribution(criterion.field, {criterion.field: value}, part))
        return _finish(total, parts)


class RiceModel(_Model, tag="rice"):
    """reach x customer_impact x confidence / effort."""

    def _required(self) -> tuple[str, ...]:
        return ("customer_impact", "reach", "confidence", "effort")

    def _score(self, estimates: Estimates, voices: Voices) -> Scored | Unscored:
        reach, impact, confidence = estimates.reach, estimates.customer_impact, estimates.confidence
        effort = estimates.total_effort
        if reach is None or impact is None or confidence is None or effort is None:
            return _missing(self, estimates, voices)
        if effort == 0:
            return _zero("effort")
        value = reach * impact * confidence / effort
        inputs = {"reach": reach, "customer_impact": impact, "confidence": confidence, "effort": effort}
        return _finish(value, [Contribution("rice", inputs, value)])


_COST_OF_DELAY: Final = ("customer_impact", "time_criticality", "risk_reduction")


class WsjfModel(_Model, tag="wsjf"):
    """Cost of delay over job size: (customer_impact + time_criticality + risk_reduction) / effort."""

    def _required(self) -> tuple[str, ...]:
        return ("customer_impact", "effort", "time_criticality", "risk_reduction")

    def _score(self, estimates: Estimates, voices: Voices) -> Scored | Unscored:
        effort = estimates.total_effort
        terms = [(name, getattr(estimates, name)) for name in _COST_OF_DELAY]
        if effort is None or any(value is None for _, value in terms):
            return _missing(self, estimates, voices)
        if effort == 0:
            return _zero("effort")
        parts = []
        total = 0.0
        for name, value in terms:
            part = value / effort
            total += part
            parts.append(Contribution(name, {name: value, "effort": effort}, part))
        return _finish(total, parts)


class IceModel(_Model, tag="ice"):
    """customer_impact x confidence x ease, ease = min(10, referenceEffort / effort)."""

    reference_effort: float = 10.0

    def __post_init__(self) -> None:
        _positive(self.reference_effort, "referenceEffort")

    def _required(self) -> tuple[str, ...]:
        return ("customer_impact", "confidence", "effort")

    def _score(self, estimates: Estimates, voices: Voices) -> Scored | Unscored:
        impact, confidence, effort = estimates.customer_impact, estimates.confidence, estimates.total_effort
        if impact is None or confidence is None or effort is None:
            return _missing(self, estimates, voices)
        # No effort at all is as easy as it gets, not a division by zero.
        ease = 10.0 if effort == 0 else min(10.0, self.reference_effort / effort)
        value = impact * confidence * ease
        inputs = {"customer_impact": impact, "confidence": confidence, "effort": effort, "ease": ease}
        return _finish(value, [Contribution("ice", inputs, value)])


class ValueEffortModel(_Model, tag="value_effort"):
    """valueField / effortField: benefit per unit of effort (or of cost)."""

    value_field: str = "annual_benefit"
    effort_field: Literal["effort", "cost"] = "effort"

    def __post_init__(self) -> None:
        _estimate(self.value_field, "valueField")
        if self.effort_field not in ("effort", "cost"):
            raise DomainError("must be 'effort' or 'cost'", field="effortField")
        if self.value_field == self.effort_field:
            raise DomainError("must differ from effortField", field="valueField")

    def _required(self) -> tuple[str, ...]:
        return _ordered((self.value_field, self.effort_field))

    def _score(self, estimates: Estimates, voices: Voices) -> Scored | Unscored:
        value, effort = estimates.value_of(self.value_field), estimates.value_of(self.effort_field)
        if value is None or effort is None:
            return _missing(self, estimates, voices)
        if effort == 0:
            return _zero(self.effort_field)
        ratio = value / effort
        inputs = {self.value_field: value, self.effort_field: effort}
        return _finish(ratio, [Contribution("value_effort", inputs, ratio)])


class RoiModel(_Model, tag="roi"):
    """Return on investment: (annual_benefit x horizonYears - cost) / cost."""

    horizon_years: float = 1.0

    def __post_init__(self) -> None:
        _positive(self.horizon_years, "horizonYears")

    def _required(self) -> tuple[str, ...]:
        return ("cost", "annual_benefit")

    def _score(self, estimates: Estimates, voices: Voices) -> Scored | Unscored:
        benefit, cost = estimates.annual_benefit, estimates.cost
        if benefit is None or cost is None:
            return _missing(self, estimates, voices)
        if cost == 0:
            return _zero("cost")
        value = (benefit * self.horizon_years - cost) / cost
        return _finish(value, [Contribution("roi", {"annual_benefit": benefit, "cost": cost}, value)])


class _Term(msgspec.Struct, frozen=True):
    label: str
    sign: float
    names: tuple[str, ...]
    evaluate: expression.Compiled


class _Program(msgspec.Struct, frozen=True):
    names: tuple[str, ...]
    terms: tuple[_Term, ...]


@lru_cache(maxsize=1024)
def _compile(formula: str) -> _Program:
    # Cached by text, so the structs stay plain data and a model decoded again from the
    # database does not parse its formula again.
    tree = expression.parse(formula)
    terms = []
    for sign, node in expression.additive_terms(tree):
        text = formula[node.start : node.end]
        terms.append(
            _Term(
                text if sign > 0 else f"-({text})",
                float(sign),
                _ordered(expression.names_used(node)),
                expression.compile_expression(node),
            )
        )
    return _Program(_ordered(expression.names_used(tree)), tuple(terms))


class CustomModel(_Model, tag="custom"):
    """A formula over the estimates in the safe language of `expression`."""

    formula: str

    def __post_init__(self) -> None:
        try:
            _compile(self.formula)
        except expression.ExpressionError as exc:
            raise DomainError(exc.message, field="formula") from None

    def _required(self) -> tuple[str, ...]:
        return _compile(self.formula).names

    def _score(self, estimates: Estimates, voices: Voices) -> Scored | Unscored:
        program = _compile(self.formula)
        values = {}
        for name in program.names:
            value = estimates.value_of(name)
            if value is None:
                return _missing(self, estimates, voices)
            values[name] = value
        parts = []
        total = 0.0
        try:
            for term in program.terms:
                part = term.sign * term.evaluate(values)
                total += part
                parts.append(Contribution(term.label, {name: values[name] for name in term.names}, part))
        except ZeroDivisionError:
            return Unscored((), f"division by zero in {term.label!r}")
        except OverflowError:
            return Unscored((), f"{term.label!r} is too large to be a number")
        except ValueError as exc:
            return Unscored((), f"{term.label!r} cannot be computed: {exc}")
        return _finish(total, parts)


ScoringModel = (
    WeightedModel | RiceModel | WsjfModel | IceModel | ValueEffortModel | RoiModel | CustomModel | StakeholderModel
)
"""Any scoring model; decode a definition with `msgspec.convert(data, ScoringModel)`."""


def _ordered(names: object) -> tuple[str, ...]:
    # Estimates in their usual order, then stakeholder inputs by name.
    return tuple(sorted(set(names), key=lambda name: (_RANK.get(name, len(_RANK)), name)))  # type: ignore[call-overload]


def _input(name: str, estimates: Estimates, voices: Voices) -> float | None:
    criterion = stakeholder_input(name)
    return estimates.value_of(name) if criterion is None else voices.value_of(criterion)


def _missing(model: ScoringModel, estimates: Estimates, voices: Voices) -> Unscored:
    missing = tuple(name for name in model._required() if _input(name, estimates, voices) is None)  # type: ignore[union-attr]
    return Unscored(missing, f"missing estimates: {', '.join(missing)}")


def _zero(name: str) -> Unscored:
    return Unscored((), f"division by zero: {name} is 0")


def _finish(value: float, parts: list[Contribution]) -> Scored | Unscored:
    # Any inf or nan contribution makes the total non-finite too, so one check covers all.
    if not math.isfinite(value):
        return Unscored((), "the result is not a finite number")
    return Scored(value, tuple(parts))


def required_fields(model: ScoringModel) -> tuple[str, ...]:
    """The inputs the model reads: estimates in ESTIMATE_FIELDS order, then `stakeholder:` ones."""
    if isinstance(model, StakeholderModel):
        return tuple(PREFIX + name for name in model.rated_criteria())
    return model._required()


def rated_criteria(model: ScoringModel) -> tuple[str, ...] | None:
    """The stakeholder criteria the model reads, or None for a model that reads no ratings."""
    criteria = tuple(c for name in required_fields(model) if (c := stakeholder_input(name)) is not None)
    return criteria or None


def score_idea(model: ScoringModel, estimates: Estimates, voices: Voices = NO_VOICES) -> Scored | Unscored:
    """Score one idea's estimates (and ratings); Unscored when an input is missing or the maths fails."""
    if isinstance(model, StakeholderModel):
        return model.score_voices(voices)
    return model._score(estimates, voices)
