"""What exactly-once rests on, pinned: labels equal in every process and release, the priority
band rule, what a survey of Jira means for the plan, and counts read from outcomes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.integrations.jira_types import FoundIssue
from services.integrations.payloads import JiraMapping, fields_fingerprint, idea_label, issue_fields
from services.integrations.planned import PlannedIdea, PlannedPhase
from services.integrations.push.survey import in_jira_of, label_chunks
from services.integrations.push_plan import (
    InJira,
    ItemError,
    KnownIdea,
    KnownIssues,
    Operation,
    final_status,
    outcome_counts,
    plan_operations,
)

pytestmark = pytest.mark.unit

PORTFOLIO = "0b7d4c1e-5f2a-4c3b-9d8e-123456789abc"
# Computed once and written down: a re-push finds its issues by these, so they may never change.
PINNED = {
    ("0b7d4c1e-5f2a-4c3b-9d8e-123456789abc", "CJ-20"): "rmap-0b7d4c1e-i-cj-20_0f4f804fc2",
    ("0b7d4c1e-5f2a-4c3b-9d8e-123456789abc", "cj-20"): "rmap-0b7d4c1e-i-cj-20",
    ("0b7d4c1e-5f2a-4c3b-9d8e-123456789abc", "Café au lait #3"): "rmap-0b7d4c1e-i-caf-au-lait-3_cb1bfbd602",
    ("not-a-uuid", "A 1"): "rmap-2184a32a-i-a-1_937bb40e81",
}


def test_a_label_computed_in_another_process_is_the_pinned_one():
    # Another interpreter, with its own hash seed: a per-process hash() would give other labels.
    script = (
        "import json, sys\n"
        "from services.integrations.payloads import idea_label\n"
        "pairs = json.loads(sys.argv[1])\n"
        "print(json.dumps([idea_label(p, r) for p, r in pairs]))\n"
    )
    import json

    pairs = list(PINNED)
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", script, json.dumps(pairs)], capture_output=True, text=True, check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}, cwd=str(__import__("pathlib").Path(__file__).resolve().parents[3]),
        )  # fmt: skip
        assert json.loads(out.stdout) == list(PINNED.values())
    assert [idea_label(p, r) for p, r in pairs] == list(PINNED.values())


PHASE = PlannedPhase(key="improve", label="Improve", budget=100.0, spend=50.0)
MAPPING = JiraMapping()  # Highest up to rank 10, High up to 30, Medium after


def _known(idea: PlannedIdea, epic: str = "PROJ-1") -> KnownIssues:
    fields = issue_fields("PROJ", MAPPING, idea, epic, PORTFOLIO)
    return KnownIssues(
        epics={"improve": epic},
        epic_fingerprints={},
        ideas={idea.ref: KnownIdea(issue_key="PROJ-2", fingerprint=fields_fingerprint(fields))},
    )


def _action(idea: PlannedIdea, known: KnownIssues, in_jira: InJira = InJira()) -> str:
    operations = plan_operations(project_key="PROJ", mapping=MAPPING, portfolio_id=PORTFOLIO, phases=[PHASE], ideas=[idea],
                                 dependencies=[], known=known, in_jira=in_jira)  # fmt: skip
    return next(op.action for op in operations if op.idea == idea.ref)


def test_an_issue_is_updated_when_its_priority_band_changes_though_its_score_does_not():
    pushed = PlannedIdea(ref="X", title="X", phase="improve", rank=10, score=42.0)
    assert (
        _action(PlannedIdea(ref="X", title="X", phase="improve", rank=11, score=42.0), _known(pushed)) == "update_issue"
    )
    # Within the band a new rank changes nothing in Jira (the rank is not in the description).
    assert (
        _action(PlannedIdea(ref="X", title="X", phase="improve", rank=3, score=42.0), _known(pushed)) == "leave_alone"
    )


def test_what_the_survey_finds_is_recorded_not_created_unless_it_hangs_elsewhere():
    idea = PlannedIdea(ref="X", title="X", phase="improve", rank=1)
    assert (
        _action(
            idea, KnownIssues(), InJira(epics={"improve": "PROJ-1"}, ideas={"X": "PROJ-7"}, parents={"X": "PROJ-1"})
        )
        == "found_in_jira"
    )
    assert (
        _action(idea, KnownIssues(), InJira(epics={"improve": "PROJ-1"}, ideas={"X": "PROJ-7"}, parents={"X": None}))
        == "update_issue"
    )
    assert _action(idea, KnownIssues(), InJira()) == "create_issue"


def test_a_survey_searches_ideas_by_the_hundred_and_reads_links_between_found_ideas():
    chunks = label_chunks([f"i{n}" for n in range(250)], ["e1", "e2"])
    assert [len(c) for c in chunks] == [102, 100, 50] and chunks[0][:2] == ["e1", "e2"]
    assert label_chunks([], ["e1"]) == [["e1"]] and label_chunks([], []) == []
    found = {
        "la": FoundIssue("1", "P-1", ["la"], "new", "P-9", blocks=("P-2", "P-77")),
        "lb": FoundIssue("2", "P-2", ["lb"], "new", "P-9"),
        "le": FoundIssue("9", "P-9", ["le"], "new", None),
    }
    seen = in_jira_of(found, {"le": "improve"}, {"la": "a", "lb": "b", "lc": "c"})
    assert seen.ideas == {"a": "P-1", "b": "P-2"} and seen.epics == {"improve": "P-9"}
    assert seen.links == frozenset({("a", "b")})  # P-77 is no idea of the plan


def test_counts_come_from_outcomes_and_anything_failed_or_waiting_makes_the_push_partial():
    ops = [
        Operation(action="create_epic", phase="p", outcome="created"),
        Operation(action="create_issue", idea="a", outcome="created"),
        Operation(action="found_in_jira", idea="b", outcome="found"),
        Operation(action="create_issue", idea="c", outcome="failed", error=ItemError(status=400)),
        Operation(action="create_link", blocker="a", blocked="c", outcome="pending"),
        Operation(action="create_link", blocker="b", blocked="a", outcome="linked"),
        Operation(action="found_in_jira", blocker="a", blocked="b", outcome="found"),
        Operation(action="create_issue", idea="d"),
    ]
    counts = outcome_counts(ops)
    assert counts == {"created": 2, "found": 1, "updated": 0, "unchanged": 0, "markedUnplanned": 0, "linked": 1,
                      "linksFound": 1, "failed": 1, "toDo": 2}  # fmt: skip
    assert final_status(ops) == "partial" and final_status(ops[:3]) == "succeeded"
