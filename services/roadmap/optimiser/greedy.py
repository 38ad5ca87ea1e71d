"""A greedy value-per-cost plan that respects every hard constraint it can.

Pins and mandatory ideas first, then coverage, then ideas in order of value per cost, where
the cost of an idea includes the prerequisites it would bring in. An idea is placed in its
best-paying phase that fits, with its prerequisites early enough. The result is a baseline
for the benchmarks and the solver's starting plan; it is `None` when the greedy could not
satisfy the forced ideas or coverage.
"""

from __future__ import annotations

import heapq
import math

from services.roadmap.optimiser.instance import Coverage, Instance, Plan, coverage_groups
from services.roadmap.optimiser.reach import Reach, analyse
from services.roadmap.optimiser.validate import validate


class _State:
    """A partial plan with remaining budget and capacity, and an undo log."""

    def __init__(self, instance: Instance, reach: Reach) -> None:
        self.instance = instance
        self.reach = reach
        self.phase_of: dict[int, int] = {}
        self.budget = [p.budget for p in instance.phases]
        self.capacity = {(t, p): c for t, team in enumerate(instance.teams) for p, c in enumerate(team.capacity)}
        self.log: list[int] = []
        # Each idea's phases in order of preference: best discounted value first, then earliest.
        self.order = [_preference(instance, i, reach.window(i)) for i in range(len(instance.ideas))]
        # Each idea's prerequisites (the ideas it requires), in the order of its constraints.
        self.requires = {i: [r.on for r in rs] for i, rs in reach.prerequisites.items()}

    def fits(self, i: int, p: int) -> bool:
        idea = self.instance.ideas[i]
        tol = 1e-9
        if idea.cost > self.budget[p] + tol * max(1.0, self.budget[p]):
            return False
        return all(a <= self.capacity[t, p] + tol * max(1.0, self.capacity[t, p]) for t, a in idea.effort)

    def excluded(self, i: int) -> bool:
        return any(j in self.phase_of for c in self.reach.excludes_of.get(i, ()) for j in c.ideas if j != i)

    def put(self, i: int, p: int) -> None:
        idea = self.instance.ideas[i]
        self.phase_of[i] = p
        self.budget[p] -= idea.cost
        for t, a in idea.effort:
            self.capacity[t, p] -= a
        self.log.append(i)

    def undo(self, mark: int) -> None:
        while len(self.log) > mark:
            i = self.log.pop()
            p = self.phase_of.pop(i)
            idea = self.instance.ideas[i]
            self.budget[p] += idea.cost
            for t, a in idea.effort:
                self.capacity[t, p] += a

    def place(self, i: int, lo: int = 0, hi: int | None = None) -> bool:
        """Plan idea `i` in a phase within [lo, hi] with its prerequisites; all or nothing."""
        if i in self.phase_of:
            p = self.phase_of[i]
            return lo <= p and (hi is None or p <= hi)
        if self.excluded(i):
            return False
        prerequisites = self.reach.prerequisites.get(i, ())
        for p in self.order[i]:
            if p < lo or (hi is not None and p > hi) or not self.fits(i, p):
                continue
            mark = len(self.log)
            self.put(i, p)
            for r in prerequisites:
                if not self.place(r.on, 0, p - 1 if r.finish_to_start else p):
                    self.undo(mark)
                    break
            else:
                return True
        return False

    def missing_cost(self, i: int) -> float:
        """Cost of `i` and its prerequisites not yet planned (planned ideas have theirs)."""
        # The greedy asks this thousands of times: a plain walk over local names, summing in
        # the same order as ever (the order of a float sum can tip a tie in the ranking).
        placed, requires, ideas = self.phase_of, self.requires, self.instance.ideas
        if i in placed:
            return 0.0
        if i not in requires:
            return 0.0 + ideas[i].cost
        seen, stack, total = {i}, [i], 0.0
        while stack:
            current = stack.pop()
            total += ideas[current].cost
            for on in requires.get(current, ()):
                if on not in seen and on not in placed:
                    seen.add(on)
                    stack.append(on)
        return total


def greedy_plan(instance: Instance, reach: Reach | None = None) -> Plan | None:
    """A feasible plan built greedily by value per cost, or None if the greedy fails."""
    reach = reach or analyse(instance)
    state = _State(instance, reach)
    for i, pins in reach.pins.items():
        if not state.place(i, pins[0].phase, pins[0].phase):
            return None
    for i in reach.mandatory:
        if not state.place(i):
            return None
    for c in instance.constraints:
        if isinstance(c, Coverage) and not _cover(state, c):
            return None
    if instance.baseline is not None:
        # Keeping an approved idea in its phase is worth its value plus the penalty it avoids.
        for i, p in instance.baseline.phase_of.items():
            if instance.score_in(i, p) > 0 and p in reach.window(i):
                state.place(i, p, p)
    _fill(state)
    plan = Plan(assignments=tuple(sorted(state.phase_of.items())))
    return plan if not validate(instance, plan) else None


def _preference(instance: Instance, i: int, window: tuple[int, ...]) -> list[int]:
    if len(window) < 2:
        return list(window)
    return sorted(window, key=lambda p: (-instance.score_in(i, p), p))


def _cover(state: _State, c: Coverage) -> bool:
    instance = state.instance
    lo, hi = (0, None) if c.phase is None else (c.phase, c.phase)
    for members in coverage_groups(instance, c.attribute).values():

        def counted(i: int) -> bool:
            return i in state.phase_of and (c.phase is None or state.phase_of[i] == c.phase)

        have = sum(1 for i in members if counted(i))
        ranked = sorted(members, key=lambda i: _ratio(instance, i, instance.ideas[i].cost), reverse=True)
        for i in ranked:
            if have >= c.at_least:
                break
            if i not in state.phase_of and state.place(i, lo, hi):
                have += 1
        if have < c.at_least:
            return False
    return True


def _ratio(instance: Instance, i: int, cost: float) -> tuple[float, float]:
    return _ratio_of(_best_value(instance, i), cost)


def _best_value(instance: Instance, i: int) -> float:
    return max(instance.scores_in(i, instance.ideas[i].phases), default=0.0)


def _ratio_of(value: float, cost: float) -> tuple[float, float]:
    return (math.inf if cost <= 0 else value / cost, value)


def _fill(state: _State) -> None:
    """Add ideas by value per (remaining) cost while anything fits."""
    instance, reach = state.instance, state.reach
    version = [0] * len(instance.ideas)
    best = [_best_value(instance, i) for i in range(len(instance.ideas))]

    def key(i: int) -> tuple[float, float]:
        return _ratio_of(best[i], state.missing_cost(i))

    heap: list[tuple[float, float, int, int]] = []
    for i in range(len(instance.ideas)):
        if best[i] > 0 and reach.window(i) and i not in state.phase_of:
            ratio, value = key(i)
            heap.append((-ratio, -value, i, 0))
    heapq.heapify(heap)
    dropped: set[int] = set()
    while heap:
        _, _, i, v = heapq.heappop(heap)
        if v != version[i] or i in state.phase_of or i in dropped:
            continue
        mark = len(state.log)
        if not state.place(i):
            dropped.add(i)
            continue
        # The newly planned prerequisites make their other dependents cheaper: re-rank those.
        for j in _dependents_of(reach, state.log[mark:]):
            if j not in state.phase_of and j not in dropped and best[j] > 0:
                version[j] += 1
                ratio, value = key(j)
                heapq.heappush(heap, (-ratio, -value, j, version[j]))


def _dependents_of(reach: Reach, ideas: list[int]) -> set[int]:
    seen: set[int] = set()
    stack = list(ideas)
    while stack:
        current = stack.pop()
        for r in reach.dependents.get(current, ()):
            if r.idea not in seen:
                seen.add(r.idea)
                stack.append(r.idea)
    return seen
