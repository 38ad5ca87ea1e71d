"""Re-planning against an approved plan: how a new plan differs from the baseline.

The baseline itself is part of the Instance (`instance.Baseline`): the solver's objective is
the value minus `movePenalty` for each approved idea moved to another phase or dropped
(`instance.score_in`, `instance.plan_score`). This module compares a plan with it.
"""

from __future__ import annotations

import msgspec

from services.roadmap.optimiser.instance import Instance, Plan


class BaselineDiff(msgspec.Struct, frozen=True):
    """A plan against the baseline, as (idea, phase) positions.

    `kept`: approved ideas in their approved phase; `moved`: (idea, approved phase, new
    phase); `dropped`: approved ideas not planned, with their approved phase; `added`: planned
    ideas that were not approved; `ignored`: approved idea ids no longer in the scenario.
    """

    move_penalty: float
    penalty: float
    kept: tuple[tuple[int, int], ...]
    moved: tuple[tuple[int, int, int], ...]
    dropped: tuple[tuple[int, int], ...]
    added: tuple[tuple[int, int], ...]
    ignored: tuple[str, ...]


def baseline_diff(instance: Instance, plan: Plan) -> BaselineDiff | None:
    """How `plan` differs from the instance's baseline (None if it has none)."""
    baseline = instance.baseline
    if baseline is None:
        return None
    phase_of = plan.phase_of()
    kept, moved, dropped = [], [], []
    for i, p in sorted(baseline.phase_of.items()):
        if i not in phase_of:
            dropped.append((i, p))
        elif phase_of[i] == p:
            kept.append((i, p))
        else:
            moved.append((i, p, phase_of[i]))
    added = [(i, p) for i, p in plan.assignments if i not in baseline.phase_of]
    return BaselineDiff(
        move_penalty=baseline.move_penalty,
        penalty=baseline.move_penalty * (len(moved) + len(dropped)),
        kept=tuple(kept),
        moved=tuple(moved),
        dropped=tuple(dropped),
        added=tuple(added),
        ignored=baseline.ignored,
    )
