"""A push's operations carried out on the stand-in Jira's in-memory state (no server, no network).

The schema tests say the bodies have the right shape; this says Jira would also accept what is
in them (issue types, priority names, components, parent hierarchy, custom field kinds, labels)
and that the Blocks links point the right way.
"""

from __future__ import annotations

import pytest
from integrations_examples import MAPPING, PORTFOLIO
from jira_standin.state import JiraState

from services.integrations import adf
from services.integrations.payloads import (
    UNPLANNED_LABEL,
    blocks_link_body,
    bulk_create_bodies,
    create_issue_body,
    edit_issue_body,
    epic_fields,
    fields_fingerprint,
    idea_label,
    issue_fields,
    unplanned_edit_body,
)
from services.integrations.planned import Dependency, PlannedIdea, PlannedPhase
from services.integrations.push_plan import KnownIdea, KnownIssues, plan_operations

pytestmark = pytest.mark.unit

PHASES = [
    PlannedPhase(key="p1", label="Phase one", budget=100.0, spend=80.0),
    PlannedPhase(key="p2", label="Phase two", budget=50.0, spend=20.0),
]


def _push(state: JiraState, ideas, deps, known: KnownIssues) -> KnownIssues:
    """A minimal push job: the operations in order, creates of ideas in bulk bodies."""
    operations = plan_operations(
        project_key="PROJ",
        mapping=MAPPING,
        portfolio_id=PORTFOLIO,
        phases=PHASES,
        ideas=ideas,
        dependencies=deps,
        known=known,
    )
    by_ref = {idea.ref: idea for idea in ideas}
    phases = {phase.key: phase for phase in PHASES}
    epics, recorded, links = dict(known.epics), dict(known.ideas), set(known.links)
    for op in (o for o in operations if o.action == "create_epic"):
        epics[op.phase] = state.create(
            create_issue_body(epic_fields("PROJ", MAPPING, phases[op.phase], PORTFOLIO, "EUR"))
        ).key
    creates = [
        (op.idea, issue_fields("PROJ", MAPPING, by_ref[op.idea], epics[by_ref[op.idea].phase], PORTFOLIO))
        for op in operations
        if op.action == "create_issue"
    ]
    bodies = bulk_create_bodies([fields for _, fields in creates])
    created = [state.create(update) for body in bodies for update in body["issueUpdates"]]
    for (ref, fields), issue in zip(creates, created, strict=True):
        recorded[ref] = KnownIdea(issue_key=issue.key, fingerprint=fields_fingerprint(fields))
    for op in operations:
        if op.action == "update_issue":
            fields = issue_fields("PROJ", MAPPING, by_ref[op.idea], epics[by_ref[op.idea].phase], PORTFOLIO)
            state.edit(state.find(op.issue_key), edit_issue_body(fields))
            recorded[op.idea] = KnownIdea(issue_key=op.issue_key, fingerprint=fields_fingerprint(fields))
        elif op.action == "create_link":
            state.link(blocks_link_body(recorded[op.blocker].issue_key, recorded[op.blocked].issue_key))
            links.add((op.blocker, op.blocked))
        elif op.action == "mark_unplanned":
            issue = state.find(op.issue_key)
            state.edit(issue, unplanned_edit_body())
            state.add_comment(issue, {"body": adf.unplanned_comment(op.idea)})
            recorded[op.idea] = KnownIdea(
                issue_key=op.issue_key, fingerprint=recorded[op.idea].fingerprint, planned=False
            )
    return KnownIssues(epics=epics, ideas=recorded, links=frozenset(links))


def _idea(ref, phase, rank):
    return PlannedIdea(ref=ref, title=f"Idea {ref}", phase=phase, rank=rank, score=50.0, persona="Ops lead")


def test_a_push_and_a_re_plan_land_in_jira_as_the_plan_says():
    state = JiraState(("PROJ",))
    first = [_idea("a", "p1", 1), _idea("b", "p1", 2), _idea("c", "p2", 3)]
    known = _push(state, first, [Dependency(idea="b", on="a")], KnownIssues())
    issue = {ref: state.find(k.issue_key) for ref, k in known.ideas.items()}
    epic = {key: state.find(k) for key, k in known.epics.items()}
    assert issue["a"].values["parent"] == epic["p1"].id
    assert issue["c"].values["parent"] == epic["p2"].id
    assert issue["a"].values["labels"] == [idea_label(PORTFOLIO, "a"), "roadmap"]
    assert epic["p1"].issuetype.name == "Epic" and issue["a"].issuetype.name == "Task"
    blocks = {(link.inward_key, link.outward_key) for link in state.links if link.type["name"] == "Blocks"}
    assert blocks == {(issue["a"].key, issue["b"].key)}  # a must be done first: a blocks b

    # c moves to p1 and gains a dependency on b; a is dropped.
    second = [_idea("b", "p1", 1), _idea("c", "p1", 2)]
    known = _push(state, second, [Dependency(idea="c", on="b")], known)
    assert issue["c"].values["parent"] == epic["p1"].id
    assert UNPLANNED_LABEL in issue["a"].values["labels"] and issue["a"].comments
    assert len(state.issues) == 5  # two epics, three ideas: nothing duplicated, nothing deleted

    # a comes back: the unplanned label goes, the labels people might have added stay.
    issue["a"].values["labels"].append("team-favourite")
    _push(state, [_idea("a", "p2", 3), *second], [], known)
    assert issue["a"].values["labels"] == [idea_label(PORTFOLIO, "a"), "roadmap", "team-favourite"]
    assert issue["a"].values["parent"] == epic["p2"].id
    assert len(state.issues) == 5
