"""The dry run of a push: creates first, then nothing to do, and only what changed after a re-plan."""

from __future__ import annotations

import itertools

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from services.integrations.payloads import JiraMapping, fields_fingerprint, issue_fields
from services.integrations.planned import Dependency, MappingError, PlannedIdea, PlannedPhase
from services.integrations.push_plan import KnownIdea, KnownIssues, Operation, count_actions, plan_operations

pytestmark = pytest.mark.unit

PORTFOLIO = "3f2a9c1e-7b44-4d0a-9e61-2b8f0c5d7a10"
PROJECT = "PROJ"
MAPPING = JiraMapping(labels=("roadmap",), score_field="customfield_10051")
PHASES = [PlannedPhase(key=k, label=f"Phase {k}", budget=100.0, spend=50.0) for k in ("p1", "p2", "p3")]


def _idea(ref: str, phase: str, rank: int) -> PlannedIdea:
    return PlannedIdea(ref=ref, title=f"Idea {ref}", phase=phase, rank=rank, score=100.0 - rank)


def _plan(ideas, dependencies, known, mapping=MAPPING):
    return plan_operations(
        project_key=PROJECT,
        mapping=mapping,
        portfolio_id=PORTFOLIO,
        phases=PHASES,
        ideas=ideas,
        dependencies=dependencies,
        known=known,
    )


def _apply(operations: list[Operation], ideas: list[PlannedIdea], known: KnownIssues, mapping=MAPPING) -> KnownIssues:
    """What the push job would record after carrying the operations out against Jira."""
    by_ref = {idea.ref: idea for idea in ideas}
    epics, recorded, links = dict(known.epics), dict(known.ideas), set(known.links)
    numbers = itertools.count(len(epics) + len(recorded) + 1)
    for op in operations:
        if op.action == "create_epic":
            assert op.phase not in epics
            epics[op.phase] = f"{PROJECT}-{next(numbers)}"
        elif op.action in ("create_issue", "update_issue"):
            assert (op.issue_key is None) == (op.action == "create_issue")
            idea = by_ref[op.idea]
            fields = issue_fields(PROJECT, mapping, idea, epics[idea.phase], PORTFOLIO)
            recorded[op.idea] = KnownIdea(
                issue_key=op.issue_key or f"{PROJECT}-{next(numbers)}", fingerprint=fields_fingerprint(fields)
            )
        elif op.action == "create_link":
            links.add((op.blocker, op.blocked))
        elif op.action == "mark_unplanned":
            recorded[op.idea] = msgspec.structs.replace(recorded[op.idea], planned=False)
    return KnownIssues(epics=epics, ideas=recorded, links=frozenset(links))


def _changes(operations):
    return [
        (op.action, op.phase if op.action == "create_epic" else op.idea or (op.blocker, op.blocked))
        for op in operations
        if op.action != "leave_alone"
    ]


FIRST = [_idea("a", "p1", 1), _idea("b", "p1", 2), _idea("c", "p2", 3), _idea("d", "p2", 4)]
FIRST_DEPS = [Dependency(idea="b", on="a"), Dependency(idea="d", on="not-planned")]


def test_a_first_push_creates_epics_then_issues_by_rank_then_links():
    operations = _plan(FIRST, FIRST_DEPS, KnownIssues())
    assert _changes(operations) == [
        ("create_epic", "p1"),
        ("create_epic", "p2"),  # p3 holds no idea, so it gets no epic
        ("create_issue", "a"),
        ("create_issue", "b"),
        ("create_issue", "c"),
        ("create_issue", "d"),
        ("create_link", ("a", "b")),  # b requires a, so a blocks b
    ]
    assert count_actions(operations)["create_issue"] == 4


def test_the_same_plan_again_leaves_everything_alone():
    known = _apply(_plan(FIRST, FIRST_DEPS, KnownIssues()), FIRST, KnownIssues())
    again = _plan(FIRST, FIRST_DEPS, known)
    assert {op.action for op in again} == {"leave_alone"}
    assert len(again) == 2 + 4 + 1


def test_a_re_plan_gives_exactly_the_update_create_unplanned_and_link():
    known = _apply(_plan(FIRST, FIRST_DEPS, KnownIssues()), FIRST, KnownIssues())
    # c moves to p1, e is new, d is dropped, c now requires a.
    second = [_idea("a", "p1", 1), _idea("b", "p1", 2), _idea("c", "p1", 3), _idea("e", "p2", 5)]
    operations = _plan(second, [*FIRST_DEPS, Dependency(idea="c", on="a")], known)
    assert _changes(operations) == [
        ("update_issue", "c"),
        ("create_issue", "e"),
        ("create_link", ("a", "c")),
        ("mark_unplanned", "d"),
    ]
    unplanned = operations[-1]
    assert unplanned.issue_key == known.ideas["d"].issue_key


def test_a_move_to_a_phase_without_an_epic_creates_the_epic_first():
    known = _apply(_plan(FIRST, FIRST_DEPS, KnownIssues()), FIRST, KnownIssues())
    moved = [_idea("a", "p1", 1), _idea("b", "p1", 2), _idea("c", "p3", 3), _idea("d", "p2", 4)]
    assert _changes(_plan(moved, FIRST_DEPS, known)) == [("create_epic", "p3"), ("update_issue", "c")]


def test_a_rank_change_updates_only_when_the_priority_band_changes():
    known = _apply(_plan(FIRST, FIRST_DEPS, KnownIssues()), FIRST, KnownIssues())
    same_band = [_idea("a", "p1", 1), _idea("b", "p1", 7), _idea("c", "p2", 3), _idea("d", "p2", 40)]
    changes = _changes(_plan(same_band, FIRST_DEPS, known))
    # b's score moved with its rank; d dropped from "Highest" to "Medium".
    assert changes == [("update_issue", "b"), ("update_issue", "d")]
    scoreless = [PlannedIdea(ref=i.ref, title=i.title, phase=i.phase, rank=i.rank, score=i.score) for i in FIRST]
    assert _changes(_plan(scoreless, FIRST_DEPS, known)) == []


def test_an_idea_back_in_the_plan_is_updated_and_a_dropped_one_is_marked_once():
    known = _apply(_plan(FIRST, FIRST_DEPS, KnownIssues()), FIRST, KnownIssues())
    without_d = FIRST[:3]
    known = _apply(_plan(without_d, FIRST_DEPS, known), without_d, known)
    assert _changes(_plan(without_d, FIRST_DEPS, known)) == []
    assert _changes(_plan(FIRST, FIRST_DEPS, known)) == [("update_issue", "d")]


def test_a_mapping_change_updates_every_issue():
    known = _apply(_plan(FIRST, FIRST_DEPS, KnownIssues()), FIRST, KnownIssues())
    relabelled = JiraMapping(labels=("roadmap", "2027"), score_field="customfield_10051")
    assert [action for action, _ in _changes(_plan(FIRST, FIRST_DEPS, known, relabelled))] == ["update_issue"] * 4


def test_links_never_repeat_and_self_dependencies_are_ignored():
    deps = [Dependency(idea="b", on="a"), Dependency(idea="b", on="a"), Dependency(idea="a", on="a")]
    assert [op for op in _plan(FIRST, deps, KnownIssues()) if op.action == "create_link"] == [
        Operation(action="create_link", blocker="a", blocked="b", detail="a blocks b")
    ]


@pytest.mark.parametrize(
    ("ideas", "field"),
    [
        ([_idea("a", "p1", 1), _idea("a", "p2", 2)], "ideas"),
        ([_idea("a", "nowhere", 1)], "ideas[0].phase"),
    ],
)
def test_inconsistent_input_is_refused_naming_the_field(ideas, field):
    with pytest.raises(MappingError) as caught:
        _plan(ideas, [], KnownIssues())
    assert caught.value.field == field


def test_operations_are_json_ready():
    operations = _plan(FIRST, FIRST_DEPS, KnownIssues())
    assert msgspec.json.decode(msgspec.json.encode(operations), type=list[Operation]) == operations
    assert msgspec.json.decode(msgspec.json.encode(operations[0])) == {
        "action": "create_epic",
        "phase": "p1",
        "detail": "epic for phase Phase p1",
    }


REFS = list("abcdefgh")
_plans = st.dictionaries(
    st.sampled_from(REFS),
    st.tuples(st.sampled_from(["p1", "p2", "p3"]), st.integers(min_value=1, max_value=60)),
    max_size=8,
).map(lambda chosen: [_idea(ref, phase, rank) for ref, (phase, rank) in chosen.items()])
_deps = st.lists(st.builds(Dependency, idea=st.sampled_from(REFS), on=st.sampled_from(REFS)), max_size=10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_plans, _deps), min_size=1, max_size=3))
def test_after_applying_its_own_operations_a_plan_has_nothing_left_to_do(history):
    known = KnownIssues()
    for ideas, deps in history:
        operations = _plan(ideas, deps, known)
        touched = [op.idea for op in operations if op.idea is not None]
        assert len(touched) == len(set(touched))  # one operation per idea
        assert all(op.idea in known.ideas for op in operations if op.action in ("update_issue", "mark_unplanned"))
        known = _apply(operations, ideas, known)
        assert {op.action for op in _plan(ideas, deps, known)} <= {"leave_alone"}
