"""Dropping idle ideas: chosen ideas that add no value and that nothing needs.

The search's objective breaks ties by cost (model.py), so a proven-optimal plan holds no idle
idea; a plan that a time limit stopped, a core's plan or the greedy start may. Dropping them
keeps the value and every rule and only lowers the cost: ties go to the cheaper plan, even
when the search had no time to prove it.

Tried and not kept (issue 10): searching for the value alone and breaking ties afterwards
(this module plus a time-boxed MIP minimising cost at that value). Without the cost term
HiGHS proved nrp-m2 0.5 in 0.7 s instead of 1.25 s, but nrp2 0.5 in 156 s instead of 70 s,
in the same process one after the other, and the MIP found no cheaper plan than dropping
idle ideas on six NRP cases.
"""

from __future__ import annotations

from collections import defaultdict

from services.roadmap.optimiser.instance import (
    Coverage,
    Instance,
    Mandatory,
    Pin,
    Plan,
    Requires,
    attribute_key,
    coverage_groups,
)
from services.roadmap.optimiser.validate import validate


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
    if dropped == plan:
        return plan  # nothing dropped (as in every proven plan): no second validation
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
            found.append(((c.ref, attribute_key(instance.ideas[i].attributes[c.attribute])), c.at_least))
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
