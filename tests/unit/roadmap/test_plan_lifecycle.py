"""The plan lifecycle rules, without a database: every transition, every refusal, and properties."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, strategies as st

from services.roadmap.plans.domain import (
    BadBudget,
    DecisionTaken,
    PhaseAlreadyDecided,
    PhaseFigures,
    PlanRuleBroken,
    PlanState,
    TransitionForbidden,
    UnknownPhase,
    consistent,
    decide,
    judge,
    new_plan,
    revise,
    submit,
    supersede,
    unchanged_phases,
    withdraw,
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


APPROVE = DecisionTaken(decision="approved", approved_budget=None)
ASK = DecisionTaken(decision="changes_requested", approved_budget=None)


def test_the_last_approval_approves_the_plan():
    state = submitted(("improve", "perfection"))
    first = decide(state, "improve", APPROVE, comment="fine")
    assert first.state.status == "submitted" and actions(first) == ["phase_approved"]
    assert first.events[0].detail == {"phase": "improve", "comment": "fine"}
    last = decide(first.state, "perfection", APPROVE, comment="ok")
    assert last.state.status == "approved" and actions(last) == ["phase_approved", "approved"]
    assert last.state.decisions == {"improve": "approved", "perfection": "approved"}


def test_a_rejected_phase_asks_for_changes_and_the_plan_stays_under_review():
    state = decide(submitted(), "improve", APPROVE, comment="yes").state
    asked = decide(state, "personalization", ASK, comment="too dear")
    assert asked.state.status == "submitted" and actions(asked) == ["phase_changes_requested"]
    # The other phases can still be decided, and the improve approval stands.
    more = decide(asked.state, "discovery", APPROVE, comment="go")
    assert more.state.decisions == {
        "improve": "approved",
        "personalization": "changes_requested",
        "discovery": "approved",
    }
    # A leader may still approve a phase they asked changes for.
    changed_mind = decide(more.state, "personalization", APPROVE, comment="on reflection")
    assert changed_mind.state.decisions["personalization"] == "approved"


def test_an_approval_stands():
    once = decide(submitted(), "improve", APPROVE, comment="yes")
    with pytest.raises(PhaseAlreadyDecided):
        decide(once.state, "improve", ASK, comment="changed my mind")


def test_a_lower_budget_the_plan_fits_is_an_approval_and_one_it_does_not_asks_for_changes():
    figures = PhaseFigures(budget=300_000, spend=240_000)
    assert judge("approve", figures, budget=250_000) == DecisionTaken("approved", 250_000)
    assert judge("approve", figures, budget=200_000) == DecisionTaken("changes_requested", 200_000)
    assert judge("approve", figures, budget=None) == DecisionTaken("approved", None)
    assert judge("reject", figures, budget=None) == DecisionTaken("changes_requested", None)
    with pytest.raises(BadBudget, match="asks for 300000"):
        judge("approve", figures, budget=300_001)
    detail = decide(submitted(), "improve", DecisionTaken("approved", 250_000), comment="less").events[0].detail
    assert detail == {"phase": "improve", "comment": "less", "approvedBudget": 250_000}


def test_a_revision_keeps_approvals_of_unchanged_phases_and_asks_again_for_the_others():
    state = submitted(("improve", "perfection", "personalization"))
    for phase, taken in (("improve", APPROVE), ("perfection", APPROVE), ("personalization", ASK)):
        state = decide(state, phase, taken, comment="c").state
    revised = revise(
        state, phases=("improve", "perfection", "personalization"), unchanged=frozenset({"improve", "personalization"}),
        run_id="run-2", revision=2,
    )  # fmt: skip
    assert revised.state.status == "submitted" and revised.state.decisions == {"improve": "approved"}
    assert revised.events[0].detail == {
        "runId": "run-2", "revision": 2, "kept": ["improve"], "askedAgain": ["perfection", "personalization"]
    }  # fmt: skip
    # A revision that leaves every approved phase unchanged, and drops the one asked about, is approved.
    whole = revise(state, phases=("improve", "perfection"), unchanged=frozenset({"improve", "perfection"}),
                   run_id="run-3", revision=3)  # fmt: skip
    assert whole.state.status == "approved" and actions(whole) == ["revised", "approved"]
    with pytest.raises(TransitionForbidden):
        revise(promoted().state, phases=PHASES, unchanged=frozenset(), run_id="r", revision=2)


def test_unchanged_phases_are_those_with_the_same_budget_and_ideas():
    before = {"improve": (10.0, frozenset({"A", "B"})), "perfection": (5.0, frozenset({"C"}))}
    after = {
        "improve": (10.0, frozenset({"B", "A"})),
        "perfection": (6.0, frozenset({"C"})),
        "discovery": (1.0, frozenset()),
    }
    assert unchanged_phases(before, after) == {"improve"}


def test_a_plan_is_withdrawn_before_approval_only():
    assert withdraw(promoted().state).state.status == "withdrawn"
    gone = withdraw(decide(submitted(), "improve", APPROVE, comment="c").state)
    assert gone.state.status == "withdrawn" and actions(gone) == ["withdrawn"]
    approved = decide(submitted(("improve",)), "improve", APPROVE, comment="go").state
    for state in (approved, gone.state):
        with pytest.raises(TransitionForbidden):
            withdraw(state)


def test_an_unknown_phase_is_named():
    with pytest.raises(UnknownPhase, match="'someday' is not a phase of this plan"):
        decide(submitted(("improve",)), "someday", APPROVE, comment="?")
    with pytest.raises(UnknownPhase):
        decide(submitted(("improve",)), "discovery", APPROVE, comment="not in this run")


def test_decisions_only_while_submitted():
    with pytest.raises(TransitionForbidden, match="draft"):
        decide(promoted().state, "improve", APPROVE, comment="early")


def test_an_approved_plan_only_moves_to_superseded():
    approved = decide(submitted(("improve",)), "improve", APPROVE, comment="go").state
    for action in (
        lambda: submit(approved),
        lambda: decide(approved, "improve", ASK, comment="no"),
        lambda: decide(approved, "someday", APPROVE, comment="status is checked first"),
    ):
        with pytest.raises(TransitionForbidden):
            action()
    retired = supersede(approved, by_plan="plan-2")
    assert retired.state.status == "superseded" and retired.events[0].detail == {"byPlan": "plan-2"}
    with pytest.raises(TransitionForbidden):
        supersede(retired.state, by_plan="plan-3")


@pytest.mark.parametrize("status", ["draft", "submitted", "rejected", "withdrawn"])
def test_only_an_approved_plan_is_superseded(status):
    state = PlanState(
        status=status, phases=("improve",), decisions={"improve": "rejected"} if status == "rejected" else {}
    )
    with pytest.raises(TransitionForbidden):
        supersede(state, by_plan="plan-2")


@pytest.mark.parametrize(
    ("status", "decisions"),
    [
        ("approved", {"improve": "approved", "perfection": "changes_requested"}),
        ("approved", {"improve": "approved"}),
        ("submitted", {"improve": "approved", "perfection": "approved"}),
        ("submitted", {"improve": "rejected"}),
        ("draft", {"improve": "approved"}),
        ("rejected", {}),
        ("superseded", {"improve": "approved"}),
        ("withdrawn", {"improve": "approved", "perfection": "approved"}),
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
        "import services.roadmap.plans.domain\n"
        "print(','.join(sorted(m for m in ('litestar', 'asyncpg', 'httpx') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


# --- properties ----------------------------------------------------------------------------

phase_sets = st.lists(st.sampled_from(PHASES), min_size=1, max_size=4, unique=True).map(tuple)
any_action = st.one_of(
    st.just(("submit",)),
    st.just(("supersede",)),
    st.just(("withdraw",)),
    st.tuples(st.just("revise"), st.sets(st.sampled_from(PHASES)).map(frozenset)),
    st.tuples(st.just("decide"), st.sampled_from((*PHASES, "someday")), st.sampled_from((APPROVE, ASK))),
)


def apply(state: PlanState, action: tuple):
    if action[0] == "submit":
        return submit(state)
    if action[0] == "supersede":
        return supersede(state, by_plan="later")
    if action[0] == "withdraw":
        return withdraw(state)
    if action[0] == "revise":
        return revise(state, phases=state.phases, unchanged=action[1], run_id="r", revision=2)
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
        # An approval stands until a revision: only a revision takes one away.
        if action[0] != "revise":
            approved_before = {p for p, d in state.decisions.items() if d == "approved"}
            assert approved_before <= {p for p, d in after.decisions.items() if d == "approved"}
        assert after.status != "draft" or state.status == "draft"
        events += [event.action for event in transition.events]
        state = after
        assert consistent(state.status, state.phases, state.decisions)
        if state.status in ("approved", "superseded"):
            assert set(state.decisions.values()) == {"approved"} and set(state.decisions) == set(phases)
        if state.status == "submitted":
            assert set(state.decisions.values()) != {"approved"} or len(state.decisions) < len(phases)
    # The plan is approved at most once, and never once withdrawn.
    assert events.count("approved") <= 1
    assert not ("approved" in events and "withdrawn" in events)


@given(phases=phase_sets, verdicts=st.lists(st.sampled_from((APPROVE, ASK)), min_size=4, max_size=4))
def test_the_plan_ends_approved_exactly_when_every_phase_is_approved(phases, verdicts):
    state = submitted(phases)
    for phase, verdict in zip(phases, verdicts, strict=False):
        state = decide(state, phase, verdict, comment="c").state
    chosen = verdicts[: len(phases)]
    assert (state.status == "approved") == all(v == APPROVE for v in chosen)
    assert state.status in ("approved", "submitted")
