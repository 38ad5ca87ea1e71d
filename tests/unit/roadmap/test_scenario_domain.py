"""Building the optimiser's document from frozen scores: pure rules, no database."""

from __future__ import annotations

import subprocess
import sys

import msgspec
import pytest

from services.roadmap.optimiser.scenario import PhaseDoc, ScenarioError, TeamDoc
from services.roadmap.scenarios import domain

pytestmark = pytest.mark.unit


def snapshot(*ideas: domain.SnapshotIdea) -> domain.Snapshot:
    return domain.Snapshot(
        portfolio_id="p", currency="EUR", model_id="m", model_name="RICE", model_version=3, model_version_id="v",
        ideas=list(ideas),
    )  # fmt: skip


def idea(ref: str, score: float | None = 10.0, cost: float | None = 100.0, **extra) -> domain.SnapshotIdea:
    fields = dict(ref=ref, title=ref, score=score, missing=[], reason=None, cost=cost, effort={"web": 2.0},
                  phases=["improve", "perfection"], persona="Retiree")  # fmt: skip
    fields.update(extra)
    return domain.SnapshotIdea(**fields)


def test_only_ideas_with_a_score_and_a_cost_are_planned_and_the_rest_say_why():
    ideas, skipped = domain.ideas_from_snapshot(
        snapshot(
            idea("A"),
            idea("B", score=None, missing=["reach", "confidence"]),
            idea("C", cost=None),
            idea("D", score=-2.0),
            idea("E", score=None, reason="division by zero: effort is 0"),
        )
    )
    assert [doc.id for doc in ideas] == ["A"]
    assert ideas[0].value == 10.0 and ideas[0].attributes == {"persona": "Retiree"}
    assert [(s.idea, s.reason) for s in skipped] == [
        ("B", "not scored under RICE v3: missing reach, confidence"),
        ("C", "no cost estimate"),
        ("D", "negative score -2: a plan only adds value"),
        ("E", "not scored under RICE v3: division by zero: effort is 0"),
    ]


def settings(**overrides) -> domain.Settings:
    base = {"phases": [PhaseDoc(key="improve", budget=500.0)], "teams": [TeamDoc(key="app", capacity={"improve": 5})]}
    return domain.Settings(**{**base, **overrides})


def test_assembling_keeps_effort_of_planned_teams_and_phases_the_scenario_has():
    ideas, _ = domain.ideas_from_snapshot(snapshot(idea("A", effort={"web": 2.0, "app": 3.0})))
    document = domain.assemble("Q3", settings(), ideas)
    assert document.ideas[0].effort == {"app": 3.0}
    assert document.ideas[0].phases == ["improve"]
    domain.check(document)


def test_the_fingerprint_changes_with_any_input_and_only_then():
    ideas, _ = domain.ideas_from_snapshot(snapshot(idea("A"), idea("B")))
    one = domain.fingerprint(domain.assemble("Q3", settings(), ideas))
    same = domain.fingerprint(domain.assemble("Q3", settings(), list(ideas)))
    richer = domain.fingerprint(domain.assemble("Q3", settings(phases=[PhaseDoc(key="improve", budget=501.0)]), ideas))
    assert one == same != richer


@pytest.mark.parametrize(
    ("phases", "path"),
    [
        ([PhaseDoc(key="later", budget=1.0)], "phases[0].key"),
        ([PhaseDoc(key="perfection", budget=1.0), PhaseDoc(key="improve", budget=1.0)], "phases"),
    ],
)
def test_phases_must_be_the_programme_phases_in_time_order(phases, path):
    with pytest.raises(ScenarioError) as raised:
        domain.check(domain.assemble("Q3", settings(phases=phases, teams=[]), []))
    assert raised.value.path == path


def test_the_document_round_trips_through_json():
    ideas, _ = domain.ideas_from_snapshot(snapshot(idea("A")))
    document = domain.assemble("Q3", settings(), ideas)
    again = msgspec.convert(domain.as_json(document), type(document))
    assert domain.fingerprint(again) == domain.fingerprint(document)


def test_the_domain_is_pure():
    code = "import sys, services.roadmap.scenarios.domain; print(sorted(m for m in ('litestar','asyncpg','httpx') if m in sys.modules))"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )


def result(objective: float, assignments: dict[str, str], spend: dict[str, float]) -> dict:
    return {
        "status": "optimal",
        "objective": objective,
        "gap": 0.0,
        "assignments": [{"idea": idea, "phase": phase} for idea, phase in assignments.items()],
        "phases": [{"key": key, "budget": 100.0, "spend": value} for key, value in spend.items()],
    }


def test_comparing_runs_lists_what_was_added_removed_and_moved_against_the_first():
    from services.roadmap.optimiser.result import AssignmentDoc, MovedDoc
    from services.roadmap.scenarios.compare import Candidate, compare

    base = result(10, {"A": "improve", "B": "perfection", "C": "improve"}, {"improve": 50, "perfection": 20})
    other = result(12, {"A": "perfection", "C": "improve", "D": "improve"}, {"improve": 60, "perfection": 30})
    runs = [Candidate("r1", "optimise", "succeeded", base), Candidate("r2", "optimise", "succeeded", other)]
    (first, second), left_out = compare(runs)
    assert (first.added, first.removed, first.moved) == ([], [], []) and left_out == []
    assert second.added == [AssignmentDoc(idea="D", phase="improve")]
    assert second.removed == [AssignmentDoc(idea="B", phase="perfection")]
    assert second.moved == [MovedDoc(idea="A", from_="improve", to="perfection")]
    assert second.spend == {"improve": 60, "perfection": 30} and second.objective == 12


def test_runs_that_do_not_compare_are_listed_apart_with_the_reason():
    from services.roadmap.scenarios.compare import Candidate, compare

    base = result(10, {"A": "improve"}, {"improve": 50})
    runs = [
        Candidate("sweep", "frontier", "succeeded", {"points": []}),
        Candidate("r1", "optimise", "succeeded", base),
        Candidate("r2", "optimise", "running", None),
    ]
    columns, left_out = compare(runs)
    assert [column.run_id for column in columns] == ["r1"]  # the first comparable run is the baseline
    assert [(item.run_id, item.reason) for item in left_out] == [
        ("sweep", "a frontier run answers another question; only optimisation runs compare"),
        ("r2", "it is running: it has no result yet"),
    ]
