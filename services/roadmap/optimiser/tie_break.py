"""Ties go to the cheaper plan: a second, time-boxed step after the search for the best value.

Folding the tie-break into the search's objective (value minus a tiny cost term) doubled
HiGHS's time on the NRP benchmark: the term keeps HiGHS from using the objective's
integrality and makes it prove the cheapest of the best plans. So the search maximises the
value alone, and the cheaper plan of the same value is looked for afterwards:

1. `drop_idle_ideas`: chosen ideas that add no value and that no chosen idea, mandatory, pin
   or coverage needs are dropped (costless to find, and most of what the tie-break gains:
   a zero-value prerequisite nobody needs any more).
2. `cheapest_of_value`: a MIP over the same model, value held at least at the plan's and
   cost minimised, from that plan, for a tenth of the time the search took (small models at
   least 0.2 s, which they rarely need). Either it proves the cheapest plan of that value, or
   it hands back the cheapest it found. On the NRP cases it never found a cheaper plan than
   step 1 did, and a quarter of the search's time for it cost more than it saved: so its
   share is small, and below 50 ms it is not run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import msgspec
import pulp

from services.roadmap.optimiser import highs
from services.roadmap.optimiser.instance import (
    Coverage,
    Instance,
    Mandatory,
    Pin,
    Plan,
    Requires,
    coverage_groups,
    plan_cost,
    plan_score,
)
from services.roadmap.optimiser.model import Model, value_grid
from services.roadmap.optimiser.validate import validate

# `Stats.tie_break`: how far the tie-break went.
CHEAPEST = "cheapest"  # the MIP proved it: no plan of the same value costs less
CHEAPEST_FOUND = "cheapest_found"  # the MIP's time ran out first: the cheapest plan it found
IDLE_DROPPED = "idle_dropped"  # only step 1: no time for the MIP, or values on no decimal grid
SKIPPED = "skipped"  # no plan, or the caller stopped the solve

# The MIP's time: this share of the search's, never past the limit; models under
# `SMALL_MODEL_VARIABLES` get at least the floor (they prove in milliseconds, and an exact
# tie-break is what a small what-if is compared by); under `MIP_MIN_SECONDS` it is not run.
TIE_BREAK_SHARE = 0.1
SMALL_MODEL_VARIABLES = 1000
SMALL_MODEL_FLOOR_SECONDS = 0.2
MIP_MIN_SECONDS = 0.05


def tie_break_seconds(search_seconds: float, left: float, variables: int) -> float:
    """How long the tie-break MIP may run after a search of `search_seconds`, `left` remaining."""
    floor = SMALL_MODEL_FLOOR_SECONDS if variables < SMALL_MODEL_VARIABLES else 0.0
    seconds = min(left, max(floor, TIE_BREAK_SHARE * search_seconds))
    return seconds if seconds >= MIP_MIN_SECONDS else 0.0


def drop_idle_ideas(instance: Instance, plan: Plan) -> Plan:
    """`plan` without the chosen ideas that add no value and that nothing needs.

    An idea is idle when its value in its phase is zero (and it avoids no move penalty), it
    costs something, it is neither mandatory nor pinned, no chosen idea requires it, and each
    coverage it counts towards keeps enough ideas without it. Dropping one can make its own
    prerequisites idle, so they are looked at again. Budgets and capacities only loosen.
    """
    chosen = plan.phase_of()
    held = {c.idea for c in instance.constraints if isinstance(c, (Mandatory, Pin))}
    needed_by: dict[int, int] = defaultdict(int)  # chosen ideas requiring it
    prerequisites: dict[int, list[int]] = defaultdict(list)
    for c in instance.constraints:
        if isinstance(c, Requires) and c.idea in chosen:
            needed_by[c.on] += 1
            prerequisites[c.idea].append(c.on)
    covers = _coverage_counts(instance, chosen)

    def idle(i: int) -> bool:
        p = chosen.get(i)
        if p is None or i in held or needed_by[i] or instance.ideas[i].cost <= 0 or instance.score_in(i, p) != 0:
            return False
        return all(covers[key] > at_least for key, at_least in _coverages_of(instance, i, p))

    # Dearest first (popped from the end): where two idle ideas hold one coverage, the dearer goes.
    pending = sorted(chosen, key=lambda i: instance.ideas[i].cost)
    while pending:
        i = pending.pop()
        if not idle(i):
            continue
        p = chosen.pop(i)
        for key, _ in _coverages_of(instance, i, p):
            covers[key] -= 1
        for on in prerequisites[i]:
            needed_by[on] -= 1
            pending.append(on)
    dropped = Plan(assignments=tuple(sorted(chosen.items())))
    # The rules above keep every constraint; the validator has the last word all the same.
    return plan if validate(instance, dropped) else dropped


def _coverages_of(instance: Instance, i: int, p: int) -> list[tuple[tuple[int, str], int]]:
    """The (coverage, attribute value) counts idea `i` in phase `p` adds to, with their minimum."""
    found = []
    for c in instance.constraints:
        if (
            isinstance(c, Coverage)
            and (c.phase is None or c.phase == p)
            and c.attribute in instance.ideas[i].attributes
        ):
            found.append(((c.ref, _key(instance.ideas[i].attributes[c.attribute])), c.at_least))
    return found


def _coverage_counts(instance: Instance, chosen: dict[int, int]) -> dict[tuple[int, str], int]:
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for c in instance.constraints:
        if isinstance(c, Coverage):
            for key, members in coverage_groups(instance, c.attribute).items():
                counts[c.ref, key] = sum(
                    1 for i in members if i in chosen and (c.phase is None or chosen[i] == c.phase)
                )
    return counts


def _key(value) -> str:
    # As coverage_groups keys a value: its JSON text.
    return msgspec.json.encode(value).decode()


@dataclass(frozen=True)
class TieBreak:
    """The cheapest plan found of at least the plan's score, and whether it is proven cheapest."""

    plan: Plan
    proven: bool


def cheapest_of_value(
    model: Model, instance: Instance, plan: Plan, *, seconds: float, threads: int | None = None
) -> TieBreak | None:
    """The cheapest plan of `model` scoring at least `plan`'s, from `plan`, within `seconds`.

    None when the values lie on no decimal grid (a floor on the score would then cut off
    plans of equal value by rounding) or the run found nothing. The model is spent: it keeps
    the floor row and the cost objective (PuLP 3.3 has no way to remove a row that PuLP 4
    keeps), so this is its last use.
    """
    grid = value_grid(instance)
    if grid is None or seconds <= 0.01 or not model.x:
        return None
    # Half a grid step below: every plan of equal score passes the row, none of less.
    floor = plan_score(instance, plan) - grid / 2
    prob = model.prob
    row = pulp.LpConstraint(
        pulp.LpAffineExpression([(v, instance.score_in(i, p)) for (i, p), v in model.x.items()]),
        sense=pulp.LpConstraintGE,
        rhs=floor,
        name="tie_break_value_floor",
    )
    prob.addConstraint(row)
    prob.setObjective(pulp.LpAffineExpression([(v, -instance.ideas[i].cost) for (i, _), v in model.x.items()]))
    run = highs.run(model, time_limit=seconds, relative_gap=0.0, start=plan, threads=threads)
    if run.plan is None or plan_score(instance, run.plan) < floor or validate(instance, run.plan):
        return None
    if plan_cost(instance, run.plan) >= plan_cost(instance, plan):
        return TieBreak(plan, run.proven)
    return TieBreak(run.plan, run.proven)
