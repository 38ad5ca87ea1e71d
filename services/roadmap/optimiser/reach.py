"""What the constraints allow before any solving: allowed phases, earliest phases, forced ideas.

Shared by the pre-solve diagnosis, the greedy start and the left-out explanations. Every fact
here is a consequence of the hard constraints alone, so it holds for every feasible plan.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from services.roadmap.optimiser.instance import (
    Exclude,
    Excludes,
    Instance,
    Mandatory,
    Pin,
    Requires,
)


@dataclass
class Reach:
    """Facts derived from the constraints; indices are idea and phase positions."""

    allowed: list[tuple[int, ...]]
    earliest: list[int | None]
    blocked_by: dict[int, Requires] = field(default_factory=dict)
    excluded: dict[int, Exclude] = field(default_factory=dict)
    pins: dict[int, list[Pin]] = field(default_factory=dict)
    mandatory: dict[int, Mandatory] = field(default_factory=dict)
    prerequisites: dict[int, list[Requires]] = field(default_factory=dict)
    dependents: dict[int, list[Requires]] = field(default_factory=dict)
    excludes_of: dict[int, list[Excludes]] = field(default_factory=dict)
    forced: dict[int, str] = field(default_factory=dict)
    latest: dict[int, int | None] = field(default_factory=dict)
    _windows: list[tuple[int, ...]] | None = None

    def window(self, idea: int) -> tuple[int, ...]:
        """Phases an idea can be done in: allowed, not before `earliest`, not after `latest`.

        Asked for thousands of times by the greedy start and the explanations: computed once,
        after `analyse` has settled `earliest` and `latest`.
        """
        if self._windows is None:
            self._windows = [self._window(i) for i in range(len(self.allowed))]
        return self._windows[idea]

    def _window(self, idea: int) -> tuple[int, ...]:
        first = self.earliest[idea]
        if first is None:
            return ()
        last = self.latest.get(idea)
        allowed = self.allowed[idea]
        if last is None and first <= allowed[0]:
            return allowed  # nothing narrows it (the common case)
        return tuple(p for p in allowed if p >= first and (last is None or p <= last))


def analyse(instance: Instance) -> Reach:
    """Derive allowed phases, earliest feasible phases and the forced ideas of an instance."""
    n = len(instance.ideas)
    excluded: dict[int, Exclude] = {}
    pins: dict[int, list[Pin]] = defaultdict(list)
    mandatory: dict[int, Mandatory] = {}
    prerequisites: dict[int, list[Requires]] = defaultdict(list)
    dependents: dict[int, list[Requires]] = defaultdict(list)
    excludes_of: dict[int, list[Excludes]] = defaultdict(list)
    for c in instance.constraints:
        kind = type(c)  # the constraint kinds are final Structs: an exact type test suffices
        if kind is Requires:
            prerequisites[c.idea].append(c)
            dependents[c.on].append(c)
        elif kind is Exclude:
            excluded.setdefault(c.idea, c)
        elif kind is Pin:
            pins[c.idea].append(c)
        elif kind is Mandatory:
            mandatory.setdefault(c.idea, c)
        elif kind is Excludes:
            for i in c.ideas:
                excludes_of[i].append(c)
    allowed: list[tuple[int, ...]] = []
    for i, idea in enumerate(instance.ideas):
        if i not in excluded and i not in pins:
            allowed.append(idea.phases)  # already sorted and distinct (Idea checks it)
            continue
        phases = set(idea.phases)
        if i in excluded:
            phases = set()
        for pin in pins.get(i, ()):
            phases &= {pin.phase}
        allowed.append(tuple(sorted(phases)))
    reach = Reach(
        allowed=allowed,
        earliest=[a[0] if a else None for a in allowed],
        excluded=excluded,
        pins=dict(pins),
        mandatory=mandatory,
        prerequisites=dict(prerequisites),
        dependents=dict(dependents),
        excludes_of=dict(excludes_of),
    )
    _propagate_earliest(reach, n)
    _forced_closure(reach, instance)
    return reach


def _earliest_for(reach: Reach, idea: int) -> tuple[int | None, Requires | None]:
    """The first allowed phase of `idea` that its prerequisites' earliest phases permit."""
    current = reach.earliest[idea]
    if current is None:
        return None, None
    bound = current
    for req in reach.prerequisites.get(idea, ()):
        first = reach.earliest[req.on]
        if first is None:
            return None, req
        bound = max(bound, first + 1 if req.finish_to_start else first)
    for p in reach.allowed[idea]:
        if p >= bound:
            return p, None
    blocker = max(
        reach.prerequisites.get(idea, ()),
        key=lambda r: (reach.earliest[r.on] or 0) + r.finish_to_start,
    )
    return None, blocker


def _propagate_earliest(reach: Reach, n: int) -> None:
    # Earliest phases only rise, and each rise is at least one phase, so this terminates.
    queue = deque(range(n))
    queued = [True] * n
    while queue:
        idea = queue.popleft()
        queued[idea] = False
        new, blocker = _earliest_for(reach, idea)
        if new == reach.earliest[idea]:
            continue
        reach.earliest[idea] = new
        if new is None and blocker is not None:
            reach.blocked_by[idea] = blocker
        for req in reach.dependents.get(idea, ()):
            if not queued[req.idea] and reach.earliest[req.idea] is not None:
                queued[req.idea] = True
                queue.append(req.idea)


def _forced_closure(reach: Reach, instance: Instance) -> None:
    """Ideas every feasible plan contains, and the latest phase each may take."""
    forced: dict[int, str] = {}
    queue: deque[int] = deque()
    for i in list(reach.pins) + list(reach.mandatory):
        if i not in forced:
            forced[i] = "pinned" if i in reach.pins else "mandatory"
            queue.append(i)
    while queue:
        idea = queue.popleft()
        for req in reach.prerequisites.get(idea, ()):
            if req.on not in forced:
                forced[req.on] = f"required by {instance.ideas[idea].id}"
                queue.append(req.on)
    reach.forced = forced
    latest: dict[int, int | None] = {i: (reach.allowed[i][-1] if reach.allowed[i] else None) for i in forced}
    changed = True
    while changed:
        changed = False
        for idea in forced:
            last = latest[idea]
            for req in reach.prerequisites.get(idea, ()):
                cap = None if last is None else (last - 1 if req.finish_to_start else last)
                allowed = [p for p in reach.allowed[req.on] if cap is not None and p <= cap]
                new = allowed[-1] if allowed else None
                old = latest[req.on]
                if old is not None and (new is None or new < old):
                    latest[req.on] = new
                    changed = True
    reach.latest = latest
