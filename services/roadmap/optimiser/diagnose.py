"""Infeasibility diagnosis: which constraints of a scenario conflict, named by JSON path.

`precheck` finds the common conflicts without a solver, each one a proof on its own: a pin to
a phase the idea is not eligible for, a forced idea that is also excluded, a `requires` cycle
or chain that leaves a forced idea no phase, two forced ideas that exclude each other, forced
ideas that cost more than the phases they may go to have, and coverage that too few ideas can
meet. When the solver finds a conflict the pre-checks missed, `conflict.conflict_set` searches
for a minimal set of row groups that is still infeasible.
"""

from __future__ import annotations

import itertools
import math

from services.roadmap.optimiser.instance import Coverage, Excludes, Instance, coverage_groups
from services.roadmap.optimiser.model import fits
from services.roadmap.optimiser.reach import Reach
from services.roadmap.optimiser.solution import Conflict


def _ids(instance: Instance, ideas, limit: int = 8) -> str:
    names = [instance.ideas[i].id for i in ideas]
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _money(x: float) -> str:
    return f"{x:,.0f}" if x == int(x) else f"{x:,.2f}"


def precheck(instance: Instance, reach: Reach) -> list[Conflict]:
    """Conflicts provable without a solver; empty if none is found."""
    out: list[Conflict] = []
    ideas, phases = instance.ideas, instance.phases
    for i, pins in reach.pins.items():
        for pin in pins:
            if pin.phase not in ideas[i].phases:
                out.append(
                    Conflict(
                        "pin_not_eligible",
                        f"{ideas[i].id} is pinned to {phases[pin.phase].key}, a phase it is not eligible for",
                        (f"constraints[{pin.ref}]", f"ideas[{i}].phases"),
                    )
                )
        if len({pin.phase for pin in pins}) > 1:
            out.append(
                Conflict(
                    "conflicting_pins",
                    f"{ideas[i].id} is pinned to more than one phase",
                    tuple(f"constraints[{pin.ref}]" for pin in pins),
                )
            )
    for i, why in reach.forced.items():
        if i in reach.excluded:
            out.append(
                Conflict(
                    "forced_and_excluded",
                    f"{ideas[i].id} is excluded but {why}",
                    (f"constraints[{reach.excluded[i].ref}]", *_forcing_refs(reach, i)),
                )
            )
    # Every conflict is reported, not the first kind found. A later kind of check assumes the
    # earlier ones passed for what it looks at, so a conflict sharing a constraint or field with
    # one already found is that one seen again and is left out; the others stand on their own.
    _add_apart(out, _dependency_conflicts(instance, reach))
    excluding = []
    for c in instance.constraints:
        if isinstance(c, Excludes):
            both = [i for i in c.ideas if i in reach.forced]
            if len(both) > 1:
                excluding.append(
                    Conflict(
                        "forced_excludes",
                        f"{_ids(instance, both)} must all be planned but exclude each other",
                        (f"constraints[{c.ref}]", *(r for i in both for r in _forcing_refs(reach, i))),
                    )
                )
    _add_apart(out, excluding)
    _add_apart(out, _fit_conflicts(instance, reach))
    if not out:
        out += _resource_conflicts(instance, reach)
    _add_apart(out, _coverage_conflicts(instance, reach))
    return out


def _add_apart(out: list[Conflict], found: list[Conflict]) -> None:
    """Append the conflicts of `found` that share no constraint or field with those in `out`."""
    named = {path for conflict in out for path in conflict.constraints}
    for conflict in found:
        if named.isdisjoint(conflict.constraints):
            out.append(conflict)
            named.update(conflict.constraints)


def _fit_conflicts(instance: Instance, reach: Reach) -> list[Conflict]:
    """Forced ideas that fit none of the phases they may go to, even alone."""
    out = []
    for i in reach.forced:
        window = reach.window(i)
        if not window or any(fits(instance, i, p) for p in window):
            continue
        idea, blocking, reasons = instance.ideas[i], [], []
        for p in window:
            phase = instance.phases[p]
            if idea.cost > phase.budget:
                blocking.append(f"phases[{p}].budget")
                reasons.append(f"{phase.key}'s budget is {_money(phase.budget)}")
            for t, amount in idea.effort:
                team = instance.teams[t]
                if amount > team.capacity[p]:
                    blocking.append(f"teams[{t}].capacity.{phase.key}")
                    reasons.append(f"{team.key} has {_money(team.capacity[p])} in {phase.key}")
        # Its phases are part of the conflict only if it would fit a phase they leave out.
        if any(fits(instance, i, p) for p in range(len(instance.phases)) if p not in window):
            blocking += _narrowing(instance, reach, i)
        needs = [f"costs {_money(idea.cost)}"] + [
            f"needs {_money(a)} of {instance.teams[t].key}" for t, a in idea.effort
        ]
        out.append(
            Conflict(
                "does_not_fit",
                f"{idea.id} is {reach.forced[i]} and {', '.join(needs)}, but it fits none of the phases "
                f"it may go to: {'; '.join(reasons)}",
                tuple(dict.fromkeys([*blocking, *_forcing_refs(reach, i)])),
            )
        )
    return out


def _forcing_refs(reach: Reach, i: int) -> list[str]:
    refs = [f"constraints[{p.ref}]" for p in reach.pins.get(i, ())]
    if i in reach.mandatory:
        refs.append(f"constraints[{reach.mandatory[i].ref}]")
    if not refs:
        for r in reach.dependents.get(i, ()):
            if r.idea in reach.forced:
                refs.append(f"constraints[{r.ref}]")
    return refs


def _dependency_conflicts(instance: Instance, reach: Reach) -> list[Conflict]:
    # Report the pinned and mandatory ideas themselves; their prerequisites only if no root fails.
    roots = [i for i in reach.forced if i in reach.pins or i in reach.mandatory]
    out = _window_conflicts(instance, reach, roots)
    return out or _window_conflicts(instance, reach, [i for i in reach.forced if i not in roots])


def _window_conflicts(instance: Instance, reach: Reach, candidates: list[int]) -> list[Conflict]:
    out = []
    ideas = instance.ideas
    for i in candidates:
        why = reach.forced[i]
        if reach.window(i):
            continue
        if not ideas[i].phases:
            out.append(
                Conflict(
                    "not_eligible",
                    f"{ideas[i].id} {why} but is eligible for no phase",
                    (f"ideas[{i}].phases", *_forcing_refs(reach, i)),
                )
            )
            continue
        cycle = _cycle_through(reach, i)
        if cycle:
            out.append(
                Conflict(
                    "requires_cycle",
                    f"{ideas[i].id} {why}, but its finish-to-start requirements form a cycle: "
                    + " -> ".join(ideas[r.idea].id for r in cycle)
                    + f" -> {ideas[cycle[0].idea].id}",
                    tuple(f"constraints[{r.ref}]" for r in cycle) + tuple(_forcing_refs(reach, i)),
                )
            )
            continue
        chain, ideas_in, narrowing = _blocking_chain(instance, reach, i)
        steps = [
            f"{ideas[r.idea].id} requires {ideas[r.on].id}" + (" finished first" if r.finish_to_start else "")
            for r in chain
        ]
        windows = [
            f"{ideas[j].id} only in {', '.join(instance.phases[p].key for p in reach.allowed[j]) or 'no phase'}"
            for j in ideas_in
        ]
        out.append(
            Conflict(
                "requires_unsatisfiable",
                f"{ideas[i].id} {why}, but its requirements leave it no phase it may go to: "
                + "; ".join(steps + windows),
                tuple(dict.fromkeys([*(f"constraints[{r.ref}]" for r in chain), *narrowing, *_forcing_refs(reach, i)])),
            )
        )
    return out


def _cycle_through(reach: Reach, start: int):
    """A requires cycle containing a finish-to-start edge reachable from `start`, if any."""
    path: list = []
    on_path: dict[int, int] = {}
    done: set[int] = set()

    def visit(i: int):
        on_path[i] = len(path)
        for r in reach.prerequisites.get(i, ()):
            if r.on in on_path:
                cycle = path[on_path[r.on] :] + [r]
                if any(e.finish_to_start for e in cycle):
                    return cycle
            elif r.on not in done:
                path.append(r)
                found = visit(r.on)
                if found:
                    return found
                path.pop()
        del on_path[i]
        done.add(i)
        return None

    return visit(start)


def _blocking_chain(instance: Instance, reach: Reach, i: int) -> tuple[list, list[int], list[str]]:
    """The requirements that push `i` past its last allowed phase, the ideas along them, and
    the fields that narrow those ideas' phases where it matters.

    From `i`, follow the requirement that sets its earliest phase (the binding one), and go on
    from its prerequisite while that one was itself pushed past its first allowed phase. What
    matters of the ideas' phases: the last one allowed for `i`, the first one allowed for the
    idea the chain starts from, and any gap that pushes an idea in between further on.
    """
    n = len(instance.phases)
    chain, ideas, seen = [], [i], {i}
    refs = _narrowing(instance, reach, i) if max(reach.allowed[i], default=-1) < n - 1 else []
    j = i
    while True:
        binding = None
        for r in reach.prerequisites.get(j, ()):
            first = reach.earliest[r.on]
            bound = math.inf if first is None else first + r.finish_to_start
            if binding is None or bound > binding[0]:
                binding = (bound, r)
        if binding is None or binding[1].on in seen:
            return chain, ideas, refs
        r = binding[1]
        chain.append(r)
        j = r.on
        seen.add(j)
        ideas.append(j)
        first, allowed = reach.earliest[j], reach.allowed[j]
        pushed = first is None or not allowed or first > allowed[0]
        if not pushed:
            # The chain starts here: an idea allowed no earlier than `first`.
            return chain, ideas, refs + (_narrowing(instance, reach, j) if first > 0 else [])
        below = max(
            ((reach.earliest[q.on] or 0) + q.finish_to_start for q in reach.prerequisites.get(j, ())), default=0
        )
        if first is None or first > below:
            refs += _narrowing(instance, reach, j)  # a gap in its phases, or it cannot be done


def _narrowing(instance: Instance, reach: Reach, j: int) -> list[str]:
    """The fields that narrow idea `j`'s phases: its `phases`, its pins, its exclusion."""
    refs = []
    if instance.ideas[j].phases != tuple(range(len(instance.phases))):
        refs.append(f"ideas[{j}].phases")
    refs += [f"constraints[{p.ref}]" for p in reach.pins.get(j, ())]
    if j in reach.excluded:
        refs.append(f"constraints[{reach.excluded[j].ref}]")
    return refs


def _resource_conflicts(instance: Instance, reach: Reach) -> list[Conflict]:
    """Forced ideas whose windows all lie in a set of phases costing more than its budget."""
    n = len(instance.phases)
    windows = {i: set(reach.window(i)) for i in reach.forced}
    if n <= 10:
        subsets = [set(s) for k in range(1, n + 1) for s in itertools.combinations(range(n), k)]
    else:
        subsets = [set(range(a, b + 1)) for a in range(n) for b in range(a, n)]
    resources = [("budget", None)] + [("capacity", t) for t in range(len(instance.teams))]
    for kind, team in resources:
        for phases in subsets:
            inside = [i for i, w in windows.items() if w and w <= phases]
            if team is None:
                need = math.fsum(instance.ideas[i].cost for i in inside)
                have = math.fsum(instance.phases[p].budget for p in phases)
                refs = tuple(f"phases[{p}].budget" for p in sorted(phases))
            else:
                need = math.fsum(a for i in inside for t, a in instance.ideas[i].effort if t == team)
                have = math.fsum(instance.teams[team].capacity[p] for p in phases)
                key = instance.teams[team].key
                refs = tuple(f"teams[{team}].capacity.{instance.phases[p].key}" for p in sorted(phases))
            if need > have + 1e-9 * max(1.0, have):
                names = ", ".join(instance.phases[p].key for p in sorted(phases))
                what = "cost" if team is None else f"need {_money(need)} of team {key}'s capacity"
                amount = f"cost {_money(need)}" if team is None else what
                message = (
                    f"mandatory and pinned ideas {_ids(instance, inside)} {amount}, but the phases they may go to "
                    f"({names}) have {_money(have)}"
                )
                forcing = tuple(r for i in inside for r in _forcing_refs(reach, i))
                return [Conflict(kind, message, refs + tuple(dict.fromkeys(forcing)))]
    return []


def _coverage_conflicts(instance: Instance, reach: Reach) -> list[Conflict]:
    out = []
    for c in instance.constraints:
        if not isinstance(c, Coverage):
            continue
        for value, members in coverage_groups(instance, c.attribute).items():
            able = [i for i in members if reach.window(i) and (c.phase is None or c.phase in reach.window(i))]
            if len(able) < c.at_least:
                where = "" if c.phase is None else f" in {instance.phases[c.phase].key}"
                out.append(
                    Conflict(
                        "coverage_impossible",
                        f"{c.attribute} = {value} needs {c.at_least} ideas{where}, but only {len(able)} can be planned",
                        (f"constraints[{c.ref}]",),
                    )
                )
    return out
