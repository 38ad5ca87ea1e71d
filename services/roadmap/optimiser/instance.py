"""The optimiser's domain: a scenario as frozen Structs, indexed by position.

Ideas, phases and teams are referred to by their position in the scenario document, so the
model, the greedy heuristic and the validator work on small integers; keys and ids come back
only when a result is written. Phases are in time order: the order of the document.
"""

from __future__ import annotations

import math

import msgspec


def _check_finite(name: str, value: float, *, minimum: float | None = 0.0) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, not {value!r}")


class Phase(msgspec.Struct, frozen=True):
    """A phase of the programme and its budget."""

    key: str
    budget: float

    def __post_init__(self) -> None:
        _check_finite(f"phase {self.key!r} budget", self.budget)


class Team(msgspec.Struct, frozen=True):
    """A delivery team and its capacity per phase (by phase position; 0 where it has none)."""

    key: str
    capacity: tuple[float, ...]

    def __post_init__(self) -> None:
        for amount in self.capacity:
            _check_finite(f"team {self.key!r} capacity", amount)


class Idea(msgspec.Struct, frozen=True):
    """An improvement idea: its value (score), cost, effort per team and eligible phases."""

    id: str
    title: str
    value: float
    cost: float
    effort: tuple[tuple[int, float], ...]
    phases: tuple[int, ...]
    attributes: dict[str, str | int | float | bool]

    def __post_init__(self) -> None:
        # Run for each of thousands of ideas: the messages are formatted only on failure.
        if not (math.isfinite(self.value) and self.value >= 0):
            _check_finite(f"idea {self.id!r} value", self.value)
        if not (math.isfinite(self.cost) and self.cost >= 0):
            _check_finite(f"idea {self.id!r} cost", self.cost)
        for _, amount in self.effort:
            _check_finite(f"idea {self.id!r} effort", amount)
        phases = self.phases
        if len(phases) > 1 and list(phases) != sorted(set(phases)):
            raise ValueError(f"idea {self.id!r}: eligible phases must be sorted and distinct")


class Mandatory(msgspec.Struct, frozen=True, tag="mandatory"):
    """The idea is done, in one of its eligible phases. `ref` is its index in the document."""

    ref: int
    idea: int


class Pin(msgspec.Struct, frozen=True, tag="pin"):
    """The idea is done, in this phase."""

    ref: int
    idea: int
    phase: int


class Exclude(msgspec.Struct, frozen=True, tag="exclude"):
    """The idea is not done."""

    ref: int
    idea: int


class Requires(msgspec.Struct, frozen=True, tag="requires"):
    """If `idea` is done by phase p, `on` is done by p (strictly before p if finish-to-start)."""

    ref: int
    idea: int
    on: int
    finish_to_start: bool = False

    def __post_init__(self) -> None:
        if self.idea == self.on:
            raise ValueError("an idea cannot require itself")


class Excludes(msgspec.Struct, frozen=True, tag="excludes"):
    """At most one of these ideas is done."""

    ref: int
    ideas: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.ideas) < 2 or len(set(self.ideas)) != len(self.ideas):
            raise ValueError("excludes needs at least two distinct ideas")


class Coverage(msgspec.Struct, frozen=True, tag="coverage"):
    """Every distinct value of `attribute` gets at least `at_least` ideas (in `phase` if set)."""

    ref: int
    attribute: str
    at_least: int
    phase: int | None = None

    def __post_init__(self) -> None:
        if self.at_least < 0:
            raise ValueError("coverage atLeast must be >= 0")


Constraint = Mandatory | Pin | Exclude | Requires | Excludes | Coverage


class SolverSettings(msgspec.Struct, frozen=True):
    """The solver settings a scenario carries; the command line may override them."""

    time_limit_seconds: float = 60.0
    relative_gap: float = 0.0

    def __post_init__(self) -> None:
        _check_finite("timeLimitSeconds", self.time_limit_seconds)
        if self.time_limit_seconds <= 0:
            raise ValueError("timeLimitSeconds must be > 0")
        _check_finite("relativeGap", self.relative_gap)


class Baseline(msgspec.Struct, frozen=True):
    """An approved plan to re-plan against: each idea's approved phase, and the move penalty.

    Every baseline idea planned in another phase or not planned costs `move_penalty`.
    `ignored` names the approved ideas that are no longer in the scenario.
    """

    phase_of: dict[int, int]
    move_penalty: float
    ignored: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_finite("baseline movePenalty", self.move_penalty)


class Instance(msgspec.Struct, frozen=True):
    """A complete, cross-checked scenario: what the model, greedy and validator read."""

    name: str
    phases: tuple[Phase, ...]
    teams: tuple[Team, ...]
    ideas: tuple[Idea, ...]
    constraints: tuple[Constraint, ...]
    discount: tuple[float, ...]
    solver: SolverSettings = SolverSettings()
    baseline: Baseline | None = None

    def __post_init__(self) -> None:
        n_phases, n_ideas, n_teams = len(self.phases), len(self.ideas), len(self.teams)
        if n_phases == 0:
            raise ValueError("a scenario needs at least one phase")
        if len(self.discount) != n_phases:
            raise ValueError("one discount per phase")
        for d in self.discount:
            _check_finite("phase discount", d)
        if len({p.key for p in self.phases}) != n_phases:
            raise ValueError("phase keys must be distinct")
        if len({i.id for i in self.ideas}) != n_ideas:
            raise ValueError("idea ids must be distinct")
        for team in self.teams:
            if len(team.capacity) != n_phases:
                raise ValueError(f"team {team.key!r}: one capacity per phase")
        for idea in self.ideas:
            # Phases are sorted (Idea checks it): the first and last bound them all.
            phases = idea.phases
            if phases and not (0 <= phases[0] and phases[-1] < n_phases):
                raise ValueError(f"idea {idea.id!r}: phase out of range")
            for t, _ in idea.effort:
                if not 0 <= t < n_teams:
                    raise ValueError(f"idea {idea.id!r}: team out of range")
        for c in self.constraints:
            if type(c) is Requires:  # the common kind, checked without the general path
                if not (0 <= c.idea < n_ideas and 0 <= c.on < n_ideas):
                    raise ValueError(f"constraints[{c.ref}]: idea out of range")
                continue
            for i in _ideas_of(c):
                if not 0 <= i < n_ideas:
                    raise ValueError(f"constraints[{c.ref}]: idea out of range")
            phase = getattr(c, "phase", None)
            if phase is not None and not 0 <= phase < n_phases:
                raise ValueError(f"constraints[{c.ref}]: phase out of range")
        if self.baseline is not None:
            for i, p in self.baseline.phase_of.items():
                if not (0 <= i < n_ideas and 0 <= p < n_phases):
                    raise ValueError("baseline: idea or phase out of range")

    def value_in(self, idea: int, phase: int) -> float:
        """The objective contribution of doing `idea` in `phase`."""
        return self.ideas[idea].value * self.discount[phase]

    def score_in(self, idea: int, phase: int) -> float:
        """What the solver maximises for `idea` in `phase`: its value, plus the move penalty it
        avoids when this is the idea's baseline phase (see `plan_score`)."""
        value = self.ideas[idea].value * self.discount[phase]
        if self.baseline is not None and self.baseline.phase_of.get(idea) == phase:
            return value + self.baseline.move_penalty
        return value

    def scores_in(self, idea: int, phases: tuple[int, ...]) -> list[float]:
        """`score_in(idea, p)` for each of `phases`, computed in one go (bounds and the value
        grid ask for every idea's scores: thousands of calls saved on a large scenario)."""
        if self.baseline is None:
            value, discount = self.ideas[idea].value, self.discount
            return [value * discount[p] for p in phases]
        return [self.score_in(idea, p) for p in phases]


def _ideas_of(c: Constraint) -> tuple[int, ...]:
    if isinstance(c, Requires):
        return (c.idea, c.on)
    if isinstance(c, Excludes):
        return c.ideas
    if isinstance(c, Coverage):
        return ()
    return (c.idea,)


class Plan(msgspec.Struct, frozen=True):
    """A plan: the phase of each chosen idea, as (idea, phase) positions."""

    assignments: tuple[tuple[int, int], ...]

    def phase_of(self) -> dict[int, int]:
        """The chosen phase of each chosen idea (the last one wins if an idea repeats)."""
        return dict(self.assignments)


def plan_value(instance: Instance, plan: Plan) -> float:
    """Sum of value times phase discount over the plan's assignments."""
    return math.fsum(instance.value_in(i, p) for i, p in plan.assignments)


def plan_score(instance: Instance, plan: Plan) -> float:
    """The solver's objective without its cost tie-break: the sum of `score_in`.

    It is the value minus the move penalty paid, plus a constant (the penalty of every
    baseline idea), so it orders plans as the objective with penalty does.
    """
    return math.fsum(instance.score_in(i, p) for i, p in plan.assignments)


def penalty_offset(instance: Instance) -> float:
    """`plan_score - penalty_offset` is the objective with the move penalty."""
    if instance.baseline is None:
        return 0.0
    return instance.baseline.move_penalty * len(instance.baseline.phase_of)


def baseline_penalty(instance: Instance, plan: Plan) -> float:
    """The move penalty `plan` pays: one `move_penalty` per baseline idea moved or dropped."""
    if instance.baseline is None:
        return 0.0
    phase_of = plan.phase_of()
    moved = sum(1 for i, p in instance.baseline.phase_of.items() if phase_of.get(i) != p)
    return instance.baseline.move_penalty * moved


def plan_cost(instance: Instance, plan: Plan) -> float:
    """Total cost of the plan."""
    return math.fsum(instance.ideas[i].cost for i, _ in plan.assignments)


def coverage_groups(instance: Instance, attribute: str) -> dict[str, list[int]]:
    """Ideas grouped by their value of `attribute`, keyed by the value as JSON text.

    Keying by JSON text keeps `true`, `1` and `"1"` apart, as they are in the document.
    """
    groups: dict[str, list[int]] = {}
    for i, idea in enumerate(instance.ideas):
        if attribute in idea.attributes:
            key = attribute_key(idea.attributes[attribute])
            groups.setdefault(key, []).append(i)
    return groups


def attribute_key(value: str | int | float | bool) -> str:
    """An attribute value as coverage groups key it: its JSON text."""
    return msgspec.json.encode(value).decode()
