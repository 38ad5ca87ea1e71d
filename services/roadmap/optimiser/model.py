"""The PuLP model of DESIGN section 4: binary x[i, p] for each idea i and eligible phase p.

Rows are named and grouped by the JSON path of the scenario field they come from
(`constraints[3]`, `phases[1].budget`, `teams[0].capacity.improve`), so a diagnosis can name
the conflicting fields and a deletion filter can drop a whole group. Results are read through
`Model.x`, never through PuLP's (sanitised) names.
"""

from __future__ import annotations

import math

import pulp

from services.roadmap.optimiser.instance import (
    Coverage,
    Exclude,
    Excludes,
    Instance,
    Mandatory,
    Pin,
    Requires,
    coverage_groups,
)
from services.roadmap.optimiser.reach import Reach

STRUCTURAL = "structure"


# A row as built: its name, {variable: coefficient}, PuLP's sense, and the right-hand side.
Row = tuple[str, dict, int, float]


class Model:
    """A built PuLP problem, its variables by (idea, phase), and its rows by group.

    `prob` is the PuLP problem with every row. A model straight from `build_model` keeps its
    rows aside until `prob` is first asked for: the solve path hands them to HiGHS directly
    (`pending_rows`, highs_solver.py), which skips building thousands of PuLP constraints
    only to translate them. Anything that reads or changes `prob` gets all its rows first.
    """

    def __init__(
        self,
        prob: pulp.LpProblem,
        x: dict[tuple[int, int], pulp.LpVariable],
        groups: dict[str, list[str]] | None = None,
        tie_weight: float = 0.0,
        rows: list[Row] | None = None,
    ) -> None:
        self._prob = prob
        self.x = x
        self.groups = {} if groups is None else groups
        self.tie_weight = tie_weight
        self._rows = rows

    @property
    def prob(self) -> pulp.LpProblem:
        """The PuLP problem, with every row of the model."""
        self._add_pending_rows()
        return self._prob

    def _add_pending_rows(self) -> None:
        if self._rows is not None:
            rows, self._rows = self._rows, None
            add, expression, constraint = self._prob.addConstraint, pulp.LpAffineExpression, pulp.LpConstraint
            for name, terms, sense, rhs in rows:
                add(constraint(expression(terms), sense=sense, rhs=rhs, name=name))

    def pending_rows(self) -> list[Row] | None:
        """The rows not yet added to the PuLP problem (None once `prob` has them all).

        While they are pending, `prob` holds the variables and the objective only, and
        every variable is in the objective (see `build_model`).
        """
        return self._rows

    def problem(self) -> pulp.LpProblem:
        """The PuLP problem as it is, without adding the pending rows: for the hand-off to HiGHS."""
        return self._prob


# The last few instances' grids: a solve asks for it at every progress report. Keyed by id,
# with the instance kept so that an id is not reused while its entry lives.
_grids: dict[int, tuple[Instance, float | None]] = {}


def value_grid(instance: Instance) -> float | None:
    """The decimal grid all objective coefficients (`score_in`) lie on (1, 0.1, ..., 1e-5), if any.

    On such a grid two plans' values differ by at least the grid step, which lets a small
    cost term break ties without ever overturning a difference in value.
    """
    cached = _grids.get(id(instance))
    if cached is not None and cached[0] is instance:
        return cached[1]
    grid = _value_grid(instance)
    if len(_grids) >= 8:
        _grids.pop(next(iter(_grids)))
    _grids[id(instance)] = (instance, grid)
    return grid


def _value_grid(instance: Instance) -> float | None:
    coefficients: set[float] = set()
    largest: list[float] = []
    for i, idea in enumerate(instance.ideas):
        scores = instance.scores_in(i, idea.phases)
        coefficients.update(scores)
        largest.append(max(map(abs, scores), default=0.0))
    # Beyond 1e9 steps a plan's value is not exact to a step in floating point: no grid.
    total = math.fsum(largest)
    for digits in range(6):
        scale = 10.0**digits
        if total * scale > 1e9:
            return None
        if all(abs(c * scale - round(c * scale)) <= 1e-9 * max(1.0, abs(c * scale)) for c in coefficients):
            return 10.0**-digits
    return None


def max_plan_cost(instance: Instance) -> float:
    """An upper bound on the cost of any plan: no more than all ideas, nor all budgets."""
    return min(math.fsum(i.cost for i in instance.ideas), math.fsum(p.budget for p in instance.phases))


def tie_weight(instance: Instance) -> float:
    """Weight of cost in the solver's objective: the whole cost term stays below grid/4."""
    grid = value_grid(instance)
    cost = max_plan_cost(instance)
    if grid is None or cost <= 0:
        return 0.0
    return grid / 4.0 / cost


def _name(i: int, p: int) -> str:
    # Zero-padded so PuLP's name-sorted column order is the (idea, phase) order.
    return f"{i:07d}_{p:03d}"


def fits(instance: Instance, i: int, p: int) -> bool:
    """Whether idea `i` alone fits phase `p`'s budget and its teams' capacities there."""
    idea = instance.ideas[i]
    if idea.cost > instance.phases[p].budget * (1 + 1e-9) + 1e-9:
        return False
    return all(a <= instance.teams[t].capacity[p] * (1 + 1e-9) + 1e-9 for t, a in idea.effort)


def build_model(
    instance: Instance,
    *,
    drop: frozenset[str] = frozenset(),
    objective: bool = True,
    force_in: int | None = None,
    reach: Reach | None = None,
) -> Model:
    """Build the MILP. `drop` leaves out whole row groups; `force_in` makes an idea planned.

    With `reach`, what the instance already tells is presolved: an idea gets variables only
    for the phases of its window (reach.py: not before its prerequisites can be done, not
    excluded, pinned) where it fits on its own. Every feasible plan keeps to these, so the
    model's plans are the same; only a model that keeps all its rows may be pruned so.
    """
    prob = pulp.LpProblem("roadmap", pulp.LpMaximize)
    ideas = instance.ideas
    if reach is None:
        keys = [(i, p) for i, idea in enumerate(ideas) for p in idea.phases]
    else:
        keys = [(i, p) for i in range(len(ideas)) for p in reach.window(i) if fits(instance, i, p)]
    named = prob.add_variable_dict("x", [_name(i, p) for i, p in keys], 0, 1, pulp.LpBinary)
    x = dict(zip(keys, named.values()))  # the names are distinct: same order as `keys`
    rows: list[Row] = []
    model = Model(prob=prob, x=x, rows=rows)
    by_idea: dict[int, list[tuple[int, pulp.LpVariable]]] = {}
    for (i, p), var in x.items():
        by_idea.setdefault(i, []).append((p, var))
    groups = model.groups
    # This runs once per solve and once per what-if or diagnosis trial, over thousands of
    # rows: each is kept as {variable: coefficient}; `Model.prob` makes PuLP rows of them.

    def row(group: str, name: str, terms: dict, sense: int, rhs: float) -> None:
        if group in drop:
            return
        rows.append((name, terms, sense, rhs))
        names = groups.get(group)
        if names is None:
            groups[group] = [name]
        else:
            names.append(name)

    # {variable: 1.0} for each of an idea's variables, and the same with -1.0, built once:
    # most rows take an idea's variables in all its phases.
    ones = {i: {v: 1.0 for _, v in pairs} for i, pairs in by_idea.items()}
    minus_ones = {i: {v: -1.0 for _, v in pairs} for i, pairs in by_idea.items()}
    last = {i: pairs[-1][0] for i, pairs in by_idea.items()}
    empty: dict = {}

    def done(i: int, upto: int | None = None, sign: float = 1.0) -> dict:
        if upto is None or last.get(i, -1) <= upto:
            return (ones if sign > 0 else minus_ones).get(i, empty)
        return {v: sign for p, v in by_idea[i] if p <= upto}

    LE, GE = pulp.LpConstraintLE, pulp.LpConstraintGE
    for i, pairs in by_idea.items():
        if len(pairs) > 1:  # with one eligible phase, the variable's bound says it already
            row(STRUCTURAL, f"once_{i}", ones[i], LE, 1)
    if force_in is not None:
        row(STRUCTURAL, "force_in", done(force_in), GE, 1)
    # Budget and capacity rows gathered in one pass over the variables (in (idea, phase) order).
    spend: dict[int, dict] = {}
    use: dict[tuple[int, int], dict] = {}
    for (i, p), var in x.items():
        idea = ideas[i]
        if idea.cost > 0:
            spend.setdefault(p, {})[var] = idea.cost
        for t, amount in idea.effort:
            use.setdefault((t, p), {})[var] = amount
    for p, phase in enumerate(instance.phases):
        if p in spend:
            row(f"phases[{p}].budget", f"budget_{p}", spend[p], LE, phase.budget)
    for t, team in enumerate(instance.teams):
        for p, phase in enumerate(instance.phases):
            if (t, p) in use:
                row(f"teams[{t}].capacity.{phase.key}", f"cap_{t}_{p}", use[t, p], LE, team.capacity[p])
    for c in instance.constraints:
        kind = type(c)
        group, name = f"constraints[{c.ref}]", f"c{c.ref}"
        if kind is Requires:
            for p in ideas[c.idea].phases:
                terms = {**done(c.idea, p), **done(c.on, p - 1 if c.finish_to_start else p, -1.0)}
                row(group, f"{name}_p{p}", terms, LE, 0)
        elif kind is Mandatory:
            row(group, name, done(c.idea), GE, 1)
        elif kind is Pin:
            row(group, name, {v: 1.0 for p, v in by_idea.get(c.idea, ()) if p == c.phase}, GE, 1)
        elif kind is Exclude:
            row(group, name, done(c.idea), LE, 0)
        elif kind is Excludes:
            terms = {}
            for i in c.ideas:
                terms.update(done(i))
            row(group, name, terms, LE, 1)
        elif kind is Coverage:
            for n, members in enumerate(coverage_groups(instance, c.attribute).values()):
                terms = {v: 1.0 for i in members for p, v in by_idea.get(i, ()) if c.phase is None or p == c.phase}
                row(group, f"{name}_v{n}", terms, GE, c.at_least)
    if objective:
        model.tie_weight = weight = tie_weight(instance)
        score_in = instance.score_in
        terms = {var: score_in(i, p) - weight * ideas[i].cost for (i, p), var in x.items()}
        prob.setObjective(pulp.LpAffineExpression(terms))
    else:
        # Without an objective a variable in no row is not in PuLP's problem: the rows may
        # not wait (pending rows are for a problem whose objective holds every variable).
        model._add_pending_rows()
    return model
