"""The solver-free validator: re-checks a plan against every constraint of an instance.

It trusts nothing the solver says. Every plan the optimiser returns goes through `validate`,
and the objective it reports is recomputed here from the assignments alone.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import msgspec

from services.roadmap.optimiser.instance import (
    Coverage,
    Exclude,
    Excludes,
    Instance,
    Mandatory,
    Pin,
    Plan,
    Requires,
    coverage_groups,
    plan_value,
)


class Violation(msgspec.Struct, frozen=True):
    """One broken rule: what kind, a readable message, and the JSON paths involved."""

    kind: str
    message: str
    refs: tuple[str, ...] = ()


def _over(used: float, limit: float) -> bool:
    # Costs and capacities are data, not solver output, so only rounding noise is tolerated.
    return used > limit + 1e-9 * max(1.0, abs(limit))


def validate(instance: Instance, plan: Plan, objective: float | None = None) -> list[Violation]:
    """Every violation of the instance's constraints by `plan` (empty if the plan is valid).

    If `objective` is given, it is also checked against the plan's value.
    """
    out: list[Violation] = []
    ideas, phases = instance.ideas, instance.phases
    counts = Counter(i for i, _ in plan.assignments)
    for i, p in plan.assignments:
        if not (0 <= i < len(ideas) and 0 <= p < len(phases)):
            out.append(Violation("unknown", f"assignment ({i}, {p}) is out of range"))
            return out
    for i, n in counts.items():
        if n > 1:
            out.append(Violation("once", f"{ideas[i].id} is planned {n} times", (f"ideas[{i}]",)))
    phase_of = plan.phase_of()
    for i, p in plan.assignments:
        if p not in ideas[i].phases:
            out.append(
                Violation(
                    "eligible",
                    f"{ideas[i].id} is not eligible for {phases[p].key}",
                    (f"ideas[{i}].phases",),
                )
            )
    spend = [0.0] * len(phases)
    use: dict[tuple[int, int], float] = defaultdict(float)
    for i, p in plan.assignments:
        spend[p] += ideas[i].cost
        for t, amount in ideas[i].effort:
            use[t, p] += amount
    for p, phase in enumerate(phases):
        if _over(spend[p], phase.budget):
            out.append(
                Violation(
                    "budget",
                    f"{phase.key} spends {spend[p]:g} of a budget of {phase.budget:g}",
                    (f"phases[{p}].budget",),
                )
            )
    for (t, p), used in sorted(use.items()):
        team = instance.teams[t]
        if _over(used, team.capacity[p]):
            out.append(
                Violation(
                    "capacity",
                    f"team {team.key} uses {used:g} of {team.capacity[p]:g} in {phases[p].key}",
                    (f"teams[{t}].capacity.{phases[p].key}",),
                )
            )
    for c in instance.constraints:
        problem = _check(instance, c, phase_of)
        if problem:
            out.append(Violation(c.__struct_config__.tag, problem, (f"constraints[{c.ref}]",)))
    if objective is not None:
        value = plan_value(instance, plan)
        if not math.isclose(value, objective, rel_tol=1e-9, abs_tol=1e-9):
            out.append(Violation("objective", f"reported objective {objective!r}, plan value {value!r}"))
    return out


def _check(instance: Instance, c, phase_of: dict[int, int]) -> str | None:
    ideas = instance.ideas
    if type(c) is Requires:  # the common kind first (thousands on NRP); the others below
        if c.idea not in phase_of:
            return None
        if c.on not in phase_of:
            return f"{ideas[c.idea].id} is planned without {ideas[c.on].id}"
        late = phase_of[c.on] >= phase_of[c.idea] if c.finish_to_start else phase_of[c.on] > phase_of[c.idea]
        return f"{ideas[c.on].id} is planned too late for {ideas[c.idea].id}" if late else None
    if isinstance(c, Mandatory):
        return None if c.idea in phase_of else f"mandatory {ideas[c.idea].id} is not planned"
    if isinstance(c, Pin):
        if phase_of.get(c.idea) != c.phase:
            return f"{ideas[c.idea].id} is pinned to {instance.phases[c.phase].key}"
        return None
    if isinstance(c, Exclude):
        return f"excluded {ideas[c.idea].id} is planned" if c.idea in phase_of else None
    if isinstance(c, Excludes):
        chosen = [ideas[i].id for i in c.ideas if i in phase_of]
        return f"{', '.join(chosen)} exclude each other" if len(chosen) > 1 else None
    return _check_coverage(instance, c, phase_of)


def _check_coverage(instance: Instance, c: Coverage, phase_of: dict[int, int]) -> str | None:
    short = []
    for value, members in coverage_groups(instance, c.attribute).items():
        n = sum(1 for i in members if i in phase_of and (c.phase is None or phase_of[i] == c.phase))
        if n < c.at_least:
            short.append(f"{value} has {n}")
    if short:
        return f"{c.attribute} needs {c.at_least} ideas per value: " + "; ".join(short)
    return None
