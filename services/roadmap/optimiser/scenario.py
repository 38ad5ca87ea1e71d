"""The scenario document (DESIGN section 5): wire Structs and their conversion to an Instance.

Decoding is strict: unknown fields are rejected, and every cross-reference (idea ids, phase
keys, team keys, attribute names) is checked. Every problem raises `ScenarioError` naming the
JSON path of the offending field, e.g. ``ideas[3].phases[1]: unknown phase 'improv'``.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated

import msgspec

from services.roadmap.optimiser.instance import (
    Baseline,
    Constraint,
    Coverage,
    Exclude,
    Excludes,
    Idea,
    Instance,
    Mandatory,
    Phase,
    Pin,
    Requires,
    SolverSettings,
    Team,
)

NonNegative = Annotated[float, msgspec.Meta(ge=0)]
Key = Annotated[str, msgspec.Meta(min_length=1)]
AttributeValue = str | int | float | bool


class ScenarioError(ValueError):
    """A scenario document that cannot be solved as written; `path` names the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


class _Wire(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    pass


class PhaseDoc(_Wire, omit_defaults=True):
    """A phase: its budget and, optionally, when it runs (ISO dates; `end` after `start`).

    Dates are left out of the JSON when absent, so a document without them reads (and
    fingerprints) as it did before phases had dates.
    """

    key: Key
    budget: NonNegative
    start: date | None = None
    end: date | None = None


class TeamDoc(_Wire):
    key: Key
    capacity: dict[str, NonNegative] = {}


class IdeaDoc(_Wire):
    id: Key
    value: NonNegative
    cost: NonNegative
    title: str = ""
    effort: dict[str, NonNegative] = {}
    phases: list[str] | None = None
    attributes: dict[str, AttributeValue] = {}


class _ConstraintDoc(_Wire, tag_field="kind"):
    pass


class MandatoryDoc(_ConstraintDoc, tag="mandatory"):
    idea: str


class PinDoc(_ConstraintDoc, tag="pin"):
    idea: str
    phase: str


class ExcludeDoc(_ConstraintDoc, tag="exclude"):
    idea: str


class RequiresDoc(_ConstraintDoc, tag="requires"):
    idea: str
    on: str
    finish_to_start: bool = False


class ExcludesDoc(_ConstraintDoc, tag="excludes"):
    ideas: Annotated[list[str], msgspec.Meta(min_length=2)]


class CoverageDoc(_ConstraintDoc, tag="coverage"):
    attribute: Key
    at_least: Annotated[int, msgspec.Meta(ge=0)]
    phase: str | None = None


ConstraintDoc = MandatoryDoc | PinDoc | ExcludeDoc | RequiresDoc | ExcludesDoc | CoverageDoc


class ObjectiveDoc(_Wire):
    phase_discount: dict[str, NonNegative] = {}


class SolverDoc(_Wire):
    time_limit_seconds: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    relative_gap: NonNegative = 0.0


class BaselineAssignmentDoc(_Wire):
    idea: Key
    phase: Key


class BaselineDoc(_Wire):
    """The approved plan to re-plan against, and the penalty for each approved idea moved or dropped."""

    assignments: list[BaselineAssignmentDoc]
    move_penalty: NonNegative


class ScenarioDoc(_Wire):
    phases: Annotated[list[PhaseDoc], msgspec.Meta(min_length=1)]
    ideas: list[IdeaDoc]
    name: str = ""
    teams: list[TeamDoc] = []
    constraints: list[ConstraintDoc] = []
    objective: ObjectiveDoc = msgspec.field(default_factory=ObjectiveDoc)
    solver: SolverDoc = msgspec.field(default_factory=SolverDoc)
    baseline: BaselineDoc | None = None


def decode_scenario(data: bytes | str) -> Instance:
    """Decode a scenario document (JSON) into a checked Instance, or raise ScenarioError."""
    try:
        doc = msgspec.json.decode(data, type=ScenarioDoc)
    except msgspec.ValidationError as exc:
        raise _from_msgspec(exc) from None
    except msgspec.DecodeError as exc:
        raise ScenarioError("", f"not a JSON document: {exc}") from None
    return to_instance(doc)


def _from_msgspec(exc: msgspec.ValidationError) -> ScenarioError:
    text = str(exc)
    message, sep, where = text.rpartition(" - at `")
    if not sep:
        return ScenarioError("", text)
    path = where.rstrip("`").removeprefix("$").removeprefix(".")
    return ScenarioError(path, message)


def to_instance(doc: ScenarioDoc) -> Instance:
    """Cross-check a decoded document and build the Instance it describes."""
    phase_index: dict[str, int] = {}
    for n, phase in enumerate(doc.phases):
        _finite(f"phases[{n}].budget", phase.budget)
        if phase.key in phase_index:
            raise ScenarioError(f"phases[{n}].key", f"duplicate phase {phase.key!r}")
        if phase.start is not None and phase.end is not None and phase.end <= phase.start:
            raise ScenarioError(f"phases[{n}].end", f"must be after start ({phase.start.isoformat()})")
        phase_index[phase.key] = n

    def phase_of(path: str, key: str) -> int:
        if key not in phase_index:
            raise ScenarioError(path, f"unknown phase {key!r}")
        return phase_index[key]

    team_index: dict[str, int] = {}
    teams = []
    for n, team in enumerate(doc.teams):
        if team.key in team_index:
            raise ScenarioError(f"teams[{n}].key", f"duplicate team {team.key!r}")
        team_index[team.key] = n
        capacity = [0.0] * len(doc.phases)
        for key, amount in team.capacity.items():
            _finite(f"teams[{n}].capacity.{key}", amount)
            capacity[phase_of(f"teams[{n}].capacity.{key}", key)] = float(amount)
        teams.append(Team(key=team.key, capacity=tuple(capacity)))

    idea_index: dict[str, int] = {}
    ideas = []
    every_phase = tuple(range(len(doc.phases)))
    for n, doc_idea in enumerate(doc.ideas):
        ideas.append(_idea(n, doc_idea, phase_of, team_index, every_phase))
        if doc_idea.id in idea_index:
            raise ScenarioError(f"ideas[{n}].id", f"duplicate idea id {doc_idea.id!r}")
        idea_index[doc_idea.id] = n

    def idea_of(n: int, field: str, key: str) -> int:
        # The field's path is spelled out only for an error: thousands of constraints pass.
        i = idea_index.get(key)
        if i is None:
            raise ScenarioError(f"constraints[{n}].{field}", f"unknown idea {key!r}")
        return i

    attributes = {name for idea in doc.ideas for name in idea.attributes}
    constraints = [_constraint(n, c, idea_of, phase_of, attributes) for n, c in enumerate(doc.constraints)]
    discount = [1.0] * len(doc.phases)
    for key, factor in doc.objective.phase_discount.items():
        _finite(f"objective.phaseDiscount.{key}", factor)
        discount[phase_of(f"objective.phaseDiscount.{key}", key)] = float(factor)
    _finite("solver.timeLimitSeconds", doc.solver.time_limit_seconds)
    _finite("solver.relativeGap", doc.solver.relative_gap)
    return Instance(
        name=doc.name,
        phases=tuple(Phase(key=p.key, budget=float(p.budget)) for p in doc.phases),
        teams=tuple(teams),
        ideas=tuple(ideas),
        constraints=tuple(constraints),
        discount=tuple(discount),
        solver=SolverSettings(
            time_limit_seconds=float(doc.solver.time_limit_seconds),
            relative_gap=float(doc.solver.relative_gap),
        ),
        baseline=None if doc.baseline is None else _baseline(doc.baseline, idea_index, phase_of),
    )


def _baseline(doc: BaselineDoc, idea_index: dict[str, int], phase_of) -> Baseline:
    # An approved idea that has since left the scenario cannot be kept: it is ignored (and
    # named in the result), not an error, so an old approval can still be re-planned. A phase
    # key must exist: the phases are the programme's calendar, and a typo there is an error.
    _finite("baseline.movePenalty", doc.move_penalty)
    phases: dict[int, int] = {}
    ignored: list[str] = []
    seen: set[str] = set()
    for k, a in enumerate(doc.assignments):
        at = f"baseline.assignments[{k}]"
        if a.idea in seen:
            raise ScenarioError(f"{at}.idea", f"idea {a.idea!r} listed twice")
        seen.add(a.idea)
        p = phase_of(f"{at}.phase", a.phase)
        if a.idea in idea_index:
            phases[idea_index[a.idea]] = p
        else:
            ignored.append(a.idea)
    return Baseline(phase_of=phases, move_penalty=float(doc.move_penalty), ignored=tuple(ignored))


def _finite(path: str, value: float) -> None:
    if not math.isfinite(value):
        raise ScenarioError(path, f"must be a finite number, not {value!r}")


def _idea(n: int, doc: IdeaDoc, phase_of, team_index: dict[str, int], every_phase: tuple[int, ...]) -> Idea:
    # Run for each of thousands of ideas: paths are formatted only when there is an error.
    if not math.isfinite(doc.value):
        _finite(f"ideas[{n}].value", doc.value)
    if not math.isfinite(doc.cost):
        _finite(f"ideas[{n}].cost", doc.cost)
    if doc.phases is None:
        phases = every_phase
    else:
        seen: set[int] = set()
        for k, key in enumerate(doc.phases):
            p = phase_of(f"ideas[{n}].phases[{k}]", key)
            if p in seen:
                raise ScenarioError(f"ideas[{n}].phases[{k}]", f"phase {key!r} listed twice")
            seen.add(p)
        phases = tuple(sorted(seen))
    effort = []
    for key, amount in doc.effort.items():
        if key not in team_index:
            raise ScenarioError(f"ideas[{n}].effort.{key}", f"unknown team {key!r}")
        _finite(f"ideas[{n}].effort.{key}", amount)
        if amount > 0:
            effort.append((team_index[key], float(amount)))
    for key, value in doc.attributes.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ScenarioError(f"ideas[{n}].attributes.{key}", "must be finite")
    return Idea(
        id=doc.id,
        title=doc.title,
        value=float(doc.value),
        cost=float(doc.cost),
        effort=tuple(sorted(effort)) if effort else (),
        phases=phases,
        attributes=dict(doc.attributes),
    )


def _constraint(n: int, c: ConstraintDoc, idea_of, phase_of, attributes: set[str]) -> Constraint:
    kind = type(c)
    if kind is RequiresDoc:  # the common kind first: an NRP case has thousands
        idea, on = idea_of(n, "idea", c.idea), idea_of(n, "on", c.on)
        if idea == on:
            raise ScenarioError(f"constraints[{n}].on", f"idea {c.idea!r} cannot require itself")
        return Requires(ref=n, idea=idea, on=on, finish_to_start=c.finish_to_start)
    at = f"constraints[{n}]"
    if kind is MandatoryDoc:
        return Mandatory(ref=n, idea=idea_of(n, "idea", c.idea))
    if kind is PinDoc:
        return Pin(ref=n, idea=idea_of(n, "idea", c.idea), phase=phase_of(f"{at}.phase", c.phase))
    if kind is ExcludeDoc:
        return Exclude(ref=n, idea=idea_of(n, "idea", c.idea))
    if kind is ExcludesDoc:
        ideas = [idea_of(n, f"ideas[{k}]", key) for k, key in enumerate(c.ideas)]
        for k, i in enumerate(ideas):
            if i in ideas[:k]:
                raise ScenarioError(f"{at}.ideas[{k}]", f"idea {c.ideas[k]!r} listed twice")
        return Excludes(ref=n, ideas=tuple(ideas))
    if c.attribute not in attributes:
        raise ScenarioError(f"{at}.attribute", f"no idea has the attribute {c.attribute!r}")
    phase = None if c.phase is None else phase_of(f"{at}.phase", c.phase)
    return Coverage(ref=n, attribute=c.attribute, at_least=c.at_least, phase=phase)
