"""Ratings, the stakeholder model and quadrants as pure rules, without I/O."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services.scoring import formulas
from services.scoring.domain import Estimates
from services.scoring.quadrants import Thresholds, classify
from services.scoring.ratings import Department, Rating, voices_of
from services.scoring.stakeholder import StakeholderCriterion, StakeholderModel

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]

DEPARTMENTS = [
    Department(key="sales", name="Sales", customer_facing=True),
    Department(key="support", name="Support", customer_facing=True, weight=3),
    Department(key="it", name="IT"),
]


def rating(department: str, value: float, subject: str, criterion: str = "value") -> Rating:
    return Rating(criterion=criterion, subject=subject, department=department, value=value)


def test_a_department_with_many_raters_counts_once():
    many_sales = [rating("sales", 10, f"s{n}") for n in range(10)]
    voices = voices_of([*many_sales, rating("it", 0, "i1")], DEPARTMENTS)
    assert voices.value_of("value") == 5  # (10 + 0) / 2, not 100 / 11
    assert voices.spread_of("value") == 10 and voices.disagreement() == 10


def test_a_department_no_longer_listed_counts_nowhere():
    voices = voices_of([rating("sales", 8, "a"), rating("legal", 0, "b")], DEPARTMENTS)
    assert voices.value_of("value") == 8 and voices.spread_of("value") is None


def test_the_stakeholder_score_adds_up_and_flags_thin_customer_input():
    model = StakeholderModel(criteria=(StakeholderCriterion(criterion="value", weight=2),), min_customer_facing=2)
    voices = voices_of([rating("sales", 6, "a"), rating("support", 2, "b"), rating("it", 9, "c")], DEPARTMENTS)
    scored = formulas.score_idea(model, Estimates(), voices)
    # (1*6 + 3*2 + 1*9) / 5 = 4.2, weight 2 -> 8.4; two customer-facing departments heard
    assert scored.value == pytest.approx(8.4) and scored.insufficient is None
    assert sum(part.contribution for part in scored.breakdown) == pytest.approx(scored.value)
    thin = formulas.score_idea(model, Estimates(), voices_of([rating("sales", 6, "a")], DEPARTMENTS))
    assert thin.value == 12 and "1 customer-facing" in thin.insufficient
    unrated = formulas.score_idea(model, Estimates(), voices_of([], DEPARTMENTS))
    assert unrated.missing == ("stakeholder:value",)


def test_quadrants_split_at_the_thresholds_inclusively():
    limits = Thresholds(value=5, effort=10, effort_field="effort", from_median=())
    assert [classify(s, e, limits) for s, e in ((5, 10), (5, 11), (4, 10), (4, 11))] == [
        "quickWin", "majorProject", "fillIn", "moneyPit",
    ]  # fmt: skip
    assert classify(None, 1, limits) is None and classify(9, None, limits) is None


def test_the_rules_are_pure():
    modules = "services.scoring.ratings, services.scoring.stakeholder, services.scoring.quadrants, services.roadmap.scenarios.idea_rows"
    code = f"import sys, {modules}; print(sorted(m for m in ('litestar', 'asyncpg', 'httpx') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
