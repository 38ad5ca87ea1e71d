"""Idea rows of runs and plans: KPI roll-ups, accountability warnings, quick-win eligibility."""

from __future__ import annotations

import pytest

from services.roadmap.optimiser.scenario import IdeaDoc
from services.roadmap.scenarios.idea_rows import (
    IdeaDetail,
    KpiDoc,
    OwnerDoc,
    only_quick_wins,
    roll_up,
    rows_of,
    warnings,
)

pytestmark = pytest.mark.unit

IDEAS = [
    IdeaDoc(id="A", value=5, cost=10, phases=["improve", "perfection"]),
    IdeaDoc(id="B", value=3, cost=10, phases=["improve"]),
    IdeaDoc(id="C", value=1, cost=10),
]
DETAILS = {
    "A": IdeaDetail(owner=OwnerDoc(subject="a", name="Ann"), quadrant="quickWin",
                    kpis=[KpiDoc(key="nps", name="NPS", unit="pts", baseline=10, target=15)]),
    "B": IdeaDetail(kpis=[KpiDoc(key="nps", name="NPS", unit="pts", baseline=1, target=3),
                          KpiDoc(key="calls", name="Calls", unit="n", direction="decrease", target=5)]),
}  # fmt: skip


def test_kpis_roll_up_per_key_and_sum_only_in_one_unit():
    rows = rows_of(IDEAS, DETAILS)
    [calls, nps] = roll_up(["A", "B", "C"], rows)
    assert (nps.ideas, nps.with_target, nps.targeted_change, nps.units) == (2, 2, 7, ["pts"])
    assert (calls.ideas, calls.with_target, calls.targeted_change, calls.direction) == (1, 0, None, "decrease")
    mixed = {**DETAILS, "C": IdeaDetail(kpis=[KpiDoc(key="nps", name="NPS", unit="%", baseline=0, target=1)])}
    [_, nps] = roll_up(["A", "B", "C"], rows_of(IDEAS, mixed))
    assert nps.targeted_change is None and nps.units == ["%", "pts"]


def test_warnings_name_plannable_ideas_without_owner_or_kpi():
    found = warnings(IDEAS, DETAILS)
    assert [(w.kind, w.ideas) for w in found] == [("noOwner", ["B", "C"]), ("noKpis", ["C"])]
    assert warnings([IdeaDoc(id="X", value=1, cost=1, phases=[])], {}) == []  # not plannable


def test_a_phase_for_quick_wins_is_taken_from_the_others():
    kept = only_quick_wins(IDEAS, DETAILS, ["improve"], every_phase=["improve", "perfection"])
    assert [(idea.id, idea.phases) for idea in kept] == [
        ("A", ["improve", "perfection"]), ("B", []), ("C", ["perfection"]),
    ]  # fmt: skip
