"""The plan lifecycle rules, without a database: every transition, every refusal, and properties."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.roadmap.plans_domain import (
    PhaseAlreadyDecided,
    PlanRuleBroken,
    PlanState,
    TransitionForbidden,
    UnknownPhase,
    consistent,
    decide,
    new_plan,
    submit,
    supersede,
)

pytestmark = pytest.mark.unit

PHASES = ("discovery", "improve", "perfection", "personalization")


def promoted(phases=PHASES, **overrides):
    arguments = dict(run_kind="optimise", run_status="succeeded", result_status="optimal", phases=phases)
    arguments.update(overrides)
    return new_plan(**arguments, run_id="run-1", name="Q3")


def submitted(phases=PHASES) -> PlanState:
    return submit(promoted(phases).state).state


def actions(transition) -> list[str]:
    return [event.action for event in transition.events]


def test_a_promoted_run_is_a_draft_with_a_created_event():
    created = promoted(result_status="feasible")
    assert created.state.status == "draft" and created.state.decisions == {}
    assert actions(created) == ["created"] and created.events[0].detail == {"runId": "run-1", "name": "Q3"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"run_status": "running"},
        {"run_status": "failed"},
        {"result_status": "infeasible"},
        {"result_status": None},
        {"run_kind": "frontier"},
        {"phases": ()},
    ],
)
def test_only_a_succeeded_optimisation_that_found_a_plan_is_promoted(overrides):
    with pytest.raises(TransitionForbidden):
        promoted(**overrides)


def test_submitting_a_draft_and_only_a_draft():
    plan = submit(promoted().state)
    assert plan.state.status == "submitted" and actions(plan) == ["submitted"]
    with pytest.raises(TransitionForbidden, match="submitted"):
        submit(plan.state)


def test_the_last_approval_approves_the_plan():
    state = submitted(("improve", "perfection"))
    first = decide(state, "improve", "approved", comment="fine")
    assert first.state.status == "submitted" and actions(first) == ["phase_approved"]
    assert first.events[0].detail == {"phase": "improve", "comment": "fine"}
    last = decide(first.state, "perfection", "approved", comment="ok")
    assert last.state.status == "approved" and actions(last) == ["phase_approved", "approved"]
    assert last.state.decisions == {"improve": "approved", "perfection": "approved"}


def test_the_first_rejection_rejects_the_plan_at_once():
    rejected = decide(submitted(), "perfection", "rejected", comment="too dear")
    assert rejected.state.status == "rejected" and actions(rejected) == ["phase_rejected", "rejected"]
    with pytest.raises(TransitionForbidden, match="rejected"):
        decide(rejected.state, "improve", "approved", comment="late")


def test_a_phase_is_decided_once():
    once = decide(submitted(), "improve", "approved", comment="yes")
    with pytest.raises(PhaseAlreadyDecided):
        decide(once.state, "improve", "rejected", comment="changed my mind")


def test_an_unknown_phase_is_named():
    with pytest.raises(UnknownPhase, match="'someday' is not a phase of this plan"):
        decide(submitted(("improve",)), "someday", "approved", comment="?")
    with pytest.raises(UnknownPhase):
        decide(submitted(("improve",)), "discovery", "approved", comment="not in this run")


def test_decisions_only_while_submitted():
    with pytest.raises(TransitionForbidden, match="draft"):
        decide(promoted().state, "improve", "approved", comment="early")


def test_an_approved_plan_only_moves_to_superseded():
    approved = decide(submitted(("improve",)), "improve", "approved", comment="go").state
    for action in (
        lambda: submit(approved),
        lambda: decide(approved, "improve", "rejected", comment="no"),
        lambda: decide(approved, "someday", "approved", comment="status is checked first"),
    ):
        with pytest.raises(TransitionForbidden):
            action()
    retired = supersede(approved, by_plan="plan-2")
    assert retired.state.status == "superseded" and retired.events[0].detail == {"byPlan": "plan-2"}
    with pytest.raises(TransitionForbidden):
        supersede(retired.state, by_plan="plan-3")


@pytest.mark.parametrize("status", ["draft", "submitted", "rejected"])
def test_only_an_approved_plan_is_superseded(status):
    state = PlanState(status=status, phases=("improve",), decisions={"improve": "rejected"} if status == "rejected" else {})
    with pytest.raises(TransitionForbidden):
        supersede(state, by_plan="plan-2")


@pytest.mark.parametrize(
    ("status", "decisions"),
    [
        ("approved", {"improve": "approved", "perfection": "rejected"}),
        ("approved", {"improve": "approved"}),
        ("submitted", {"improve": "rejected"}),
        ("submitted", {"improve": "approved", "perfection": "approved"}),
        ("draft", {"improve": "approved"}),
        ("rejected", {}),
        ("superseded", {"improve": "approved"}),
    ],
)
def test_a_state_that_breaks_the_rules_cannot_be_built(status, decisions):
    assert not consistent(status, ("improve", "perfection"), decisions)
    with pytest.raises(ValueError, match="does not agree"):
        PlanState(status=status, phases=("improve", "perfection"), decisions=decisions)


def test_a_plan_has_phases_and_decides_only_those():
    with pytest.raises(ValueError):
        PlanState(status="draft", phases=())
    with pytest.raises(ValueError):
        PlanState(status="draft", phases=("improve", "improve"))
    with pytest.raises(ValueError):
        PlanState(status="submitted", phases=("improve", "perfection"), decisions={"discovery": "approved"})


def test_the_rules_import_no_web_database_or_http_library():
    # A fresh interpreter, so imports made by other tests cannot hide a leak.
    code = (
        "import sys\n"
        "import services.roadmap.plans_domain\n"
        "print(','.join(sorted(m for m in ('litestar', 'asyncpg', 'httpx') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


# --- properties ----------------------------------------------------------------------------

phase_sets = st.lists(st.sampled_from(PHASES), min_size=1, max_size=4, unique=True).map(tuple)
any_action = st.one_of(
    st.just(("submit",)),
    st.just(("supersede",)),
    st.tuples(st.just("decide"), st.sampled_from((*PHASES, "someday")), st.sampled_from(("approved", "rejected"))),
)


def apply(state: PlanState, action: tuple):
    if action[0] == "submit":
        return submit(state)
    if action[0] == "supersede":
        return supersede(state, by_plan="later")
    return decide(state, action[1], action[2], comment="c")


@given(phases=phase_sets, steps=st.lists(any_action, max_size=25))
def test_no_sequence_of_actions_leaves_a_plan_in_a_mixed_state(phases, steps):
    state = promoted(phases).state
    events: list[str] = []
    for action in steps:
        try:
            transition = apply(state, action)
        except PlanRuleBroken:
            continue  # a refused action changes nothing: `state` stays as it was
        after = transition.state
        # Decisions only grow, and a decision once taken never changes.
        assert after.decisions.items() >= state.decisions.items()
        assert len(after.decisions) - len(state.decisions) <= 1
        assert after.status != "draft" or state.status == "draft"
        events += [event.action for event in transition.events]
        state = after
        assert consistent(state.status, state.phases, state.decisions)
        if state.status in ("approved", "superseded"):
            assert set(state.decisions.values()) == {"approved"} and set(state.decisions) == set(phases)
        if "rejected" in state.decisions.values():
            assert state.status == "rejected"
    # The plan is approved at most once and rejected at most once, never both.
    assert events.count("approved") <= 1 and events.count("rejected") <= 1
    assert not ("approved" in events and "rejected" in events)
    # Each decision taken made exactly one phase event, and only decisions made them.
    assert events.count("phase_approved") + events.count("phase_rejected") == len(state.decisions)


@given(phases=phase_sets, verdicts=st.lists(st.sampled_from(("approved", "rejected")), min_size=4, max_size=4))
def test_the_plan_ends_approved_exactly_when_every_phase_is_approved(phases, verdicts):
    state = submitted(phases)
    for phase, verdict in zip(phases, verdicts, strict=False):
        if state.status != "submitted":
            break
        state = decide(state, phase, verdict, comment="c").state
    chosen = verdicts[: len(phases)]
    if "rejected" in chosen:
        assert state.status == "rejected"
    else:
        assert state.status == "approved"
