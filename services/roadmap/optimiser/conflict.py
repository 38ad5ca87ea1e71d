"""A small conflict in a few solves: QuickXplain over the scenario's row groups.

When the pre-checks find nothing but HiGHS proves a scenario infeasible, the conflict is
searched by divide and conquer (Junker's QuickXplain): a minimal set of groups that cannot
hold together is found in O(k log(n/k)) feasibility solves for a conflict of k groups among
n, where dropping one group at a time needs n solves. The units are the model's row groups
(a constraint, a phase budget, a team's capacity in a phase), with a coverage constraint
split per attribute value, so the conflict can name the ideas that share the value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pulp

from services.roadmap.optimiser import highs
from services.roadmap.optimiser.instance import Coverage, Excludes, Instance, Requires, coverage_groups
from services.roadmap.optimiser.model import STRUCTURAL, Model, build_model
from services.roadmap.optimiser.solution import Conflict


@dataclass(frozen=True)
class _Unit:
    group: str  # the JSON path of the field the rows come from
    rows: tuple[str, ...]
    value: str | None = None  # the attribute value of one coverage row


class _Search:
    """Feasibility checks of subsets of units, within a deadline; counts what it could not tell."""

    def __init__(self, model: Model, deadline: float, threads: int | None, progress: highs.Progress | None) -> None:
        self.model, self.deadline, self.threads, self.progress = model, deadline, threads, progress
        self.rows = {c.name: c for c in model.prob.constraints()}
        self.structural = [self.rows[name] for name in model.groups.get(STRUCTURAL, ())]
        self.solves = 0
        self.unsure = False
        self.stopped = False

    def infeasible(self, units: list[_Unit]) -> bool:
        """Whether these units alone (with the structural rows) admit no plan; False if unsure."""
        left = self.deadline - time.perf_counter()
        if left <= 0 or self.stopped:
            self.unsure = True
            return False
        prob = pulp.LpProblem("conflict", pulp.LpMaximize)
        for constraint in self.structural:
            prob.addConstraint(constraint)
        for unit in units:
            for name in unit.rows:
                prob.addConstraint(self.rows[name])
        for var in self.model.x.values():
            if hasattr(var, "index"):
                del var.index  # an index from an earlier build must not be read as this one's
        self.solves += 1
        trial = Model(prob=prob, x=self.model.x)
        run = highs.run(trial, time_limit=left, relative_gap=0.0, threads=self.threads, progress=self.progress)
        self.stopped = run.stopped
        if not run.infeasible and run.plan is None:
            self.unsure = True
        return run.infeasible


def _quickxplain(search: _Search, background: list[_Unit], added: bool, candidates: list[_Unit]) -> list[_Unit]:
    if added and search.infeasible(background):
        return []
    if len(candidates) == 1:
        return candidates
    half = len(candidates) // 2
    first, second = candidates[:half], candidates[half:]
    in_second = _quickxplain(search, background + first, bool(first), second)
    in_first = _quickxplain(search, background + in_second, bool(in_second), first)
    return in_first + in_second


def conflict_set(
    instance: Instance, seconds: float, threads: int | None = None, progress: highs.Progress | None = None
) -> list[Conflict]:
    """A minimal set of row groups that cannot all hold, found within `seconds`.

    `progress` is passed to each feasibility solve; once it returns False the search stops.
    """
    model = build_model(instance, objective=False)
    units = _units(instance, model)
    if not units:
        return []
    search = _Search(model, time.perf_counter() + seconds, threads, progress)
    found = _quickxplain(search, [], False, units)
    message = f"these constraints cannot all hold together: {_describe(instance, found)}"
    if search.unsure:
        message += " (the search stopped early or a check was inconclusive: the set may not be minimal)"
    else:
        message += f" (a minimal set, found in {search.solves} solves: without any one of them the rest can be met)"
    paths = tuple(dict.fromkeys(u.group for u in sorted(found, key=lambda u: _path_order(u.group))))
    return [Conflict("conflicting_constraints", message, paths)]


def _units(instance: Instance, model: Model) -> list[_Unit]:
    coverage = {f"constraints[{c.ref}]": c for c in instance.constraints if isinstance(c, Coverage)}
    units = []
    for group in sorted(model.groups, key=_path_order):
        if group == STRUCTURAL:
            continue
        rows = model.groups[group]
        if group in coverage:
            # build_model names a coverage row `c{ref}_v{n}` for the n-th attribute value.
            values = list(coverage_groups(instance, coverage[group].attribute))
            units += [_Unit(group, (row,), values[int(row.rsplit("_v", 1)[1])]) for row in rows]
        else:
            units.append(_Unit(group, tuple(rows)))
    return units


def _describe(instance: Instance, units: list[_Unit]) -> str:
    by_ref = {f"constraints[{c.ref}]": c for c in instance.constraints}
    parts = []
    for unit in sorted(units, key=lambda u: _path_order(u.group)):
        c = by_ref.get(unit.group)
        if isinstance(c, Coverage):
            members = coverage_groups(instance, c.attribute)[unit.value]
            where = "" if c.phase is None else f" in {instance.phases[c.phase].key}"
            ids = ", ".join(instance.ideas[i].id for i in members)
            parts.append(
                f"{unit.group} (coverage: {c.attribute} = {unit.value} needs {c.at_least} ideas{where}, from {ids})"
            )
        elif isinstance(c, Excludes):
            parts.append(f"{unit.group} (excludes: at most one of {', '.join(instance.ideas[i].id for i in c.ideas)})")
        elif isinstance(c, Requires):
            order = "finished before" if c.finish_to_start else "by the phase of"
            parts.append(f"{unit.group} ({instance.ideas[c.idea].id} requires {instance.ideas[c.on].id} {order} it)")
        elif c is not None:
            parts.append(f"{unit.group} ({c.__struct_config__.tag} {instance.ideas[c.idea].id})")
        else:
            parts.append(f"{unit.group} ({_limit(instance, unit.group)})")
    return "; ".join(parts)


def _limit(instance: Instance, path: str) -> str:
    """`phases[1].budget` -> "improve: 300,000"; `teams[0].capacity.improve` -> "web in improve: 10"."""
    head, number, tail = _path_order(path)
    if head == "phases":
        phase = instance.phases[number]
        return f"{phase.key}: {phase.budget:,g}"
    team = instance.teams[number]
    key = tail.rsplit(".", 1)[1]
    phase = next(p for p, ph in enumerate(instance.phases) if ph.key == key)
    return f"{team.key} in {key}: {team.capacity[phase]:,g}"


def _path_order(path: str) -> tuple:
    head, _, rest = path.partition("[")
    number, _, tail = rest.partition("]")
    return (head, int(number) if number.isdigit() else 0, tail)
