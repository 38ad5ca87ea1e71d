"""A phase whose budget or spend changed after a push gets its epic updated, never recreated."""

from __future__ import annotations

import pytest

from services.integrations.payloads import JiraMapping, epic_fields, fields_fingerprint
from services.integrations.planned import PlannedIdea, PlannedPhase
from services.integrations.push_plan import KnownIssues, plan_operations

pytestmark = pytest.mark.unit

PORTFOLIO = "0b9f0d2e-0000-4000-8000-000000000001"


def operations(phase: PlannedPhase, known: KnownIssues):
    idea = PlannedIdea(ref="a", title="A", phase=phase.key, rank=1, score=1.0)
    return plan_operations(
        project_key="PROJ", mapping=JiraMapping(), portfolio_id=PORTFOLIO, phases=[phase], ideas=[idea],
        dependencies=[], known=known, currency="EUR",
    )  # fmt: skip


def test_an_epic_is_left_alone_while_its_phase_is_unchanged_and_updated_when_it_changes():
    pushed = PlannedPhase(key="improve", label="Improve", budget=100.0, spend=80.0)
    fingerprint = fields_fingerprint(epic_fields("PROJ", JiraMapping(), pushed, PORTFOLIO, "EUR"))
    known = KnownIssues(epics={"improve": "PROJ-1"}, epic_fingerprints={"improve": fingerprint})
    same = operations(pushed, known)[0]
    changed = operations(PlannedPhase(key="improve", label="Improve", budget=150.0, spend=80.0), known)[0]
    assert (same.action, same.issue_key) == ("leave_alone", "PROJ-1")
    assert (changed.action, changed.issue_key, changed.phase, changed.idea) == (
        "update_issue",
        "PROJ-1",
        "improve",
        None,
    )
