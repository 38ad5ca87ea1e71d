import pytest
from optimiser_helpers import idea, run, scenario

from services.roadmap.optimiser import INFEASIBLE

pytestmark = pytest.mark.unit

FOUR = [{"key": k, "budget": 100} for k in ("discovery", "improve", "perfection", "personalization")]


def _diagnosis(document):
    _, solution = run(document)
    assert solution.status == INFEASIBLE and solution.plan is None
    return solution.diagnosis


def test_mandatory_ideas_costing_more_than_their_phases_have():
    phases = [{"key": "discovery", "budget": 500000}, {"key": "improve", "budget": 300000}]
    ideas = [idea(f"M{k}", cost=c, phases=["improve"]) for k, c in enumerate((200000, 210000))]
    (conflict,) = _diagnosis(
        scenario(ideas, phases=phases, constraints=[{"kind": "mandatory", "idea": "M0"}, {"kind": "mandatory", "idea": "M1"}])
    )
    assert conflict.kind == "budget"
    assert "410,000" in conflict.message and "300,000" in conflict.message
    assert set(conflict.constraints) == {"phases[1].budget", "constraints[0]", "constraints[1]"}


def test_pinned_work_beyond_a_team_capacity():
    teams = [{"key": "web", "capacity": {"improve": 10}}]
    ideas = [idea("A", effort={"web": 6}), idea("B", effort={"web": 6})]
    pins = [{"kind": "pin", "idea": i, "phase": "improve"} for i in ("A", "B")]
    (conflict,) = _diagnosis(scenario(ideas, phases=FOUR, teams=teams, constraints=pins))
    assert conflict.kind == "capacity"
    assert "teams[0].capacity.improve" in conflict.constraints


def test_a_pin_to_a_phase_the_idea_is_not_eligible_for():
    (conflict,) = _diagnosis(
        scenario([idea("A", phases=["improve"])], phases=FOUR, constraints=[{"kind": "pin", "idea": "A", "phase": "discovery"}])
    )
    assert conflict.kind == "pin_not_eligible"
    assert conflict.constraints == ("constraints[0]", "ideas[0].phases")


def test_two_pins_of_one_idea():
    pins = [{"kind": "pin", "idea": "A", "phase": p} for p in ("discovery", "improve")]
    kinds = {c.kind for c in _diagnosis(scenario([idea("A")], phases=FOUR, constraints=pins))}
    assert kinds == {"conflicting_pins"}


def test_a_mandatory_idea_that_is_also_excluded():
    (conflict,) = _diagnosis(
        scenario([idea("A")], constraints=[{"kind": "mandatory", "idea": "A"}, {"kind": "exclude", "idea": "A"}])
    )
    assert conflict.kind == "forced_and_excluded"
    assert set(conflict.constraints) == {"constraints[0]", "constraints[1]"}


def test_a_finish_to_start_requires_cycle():
    constraints = [
        {"kind": "mandatory", "idea": "A"},
        {"kind": "requires", "idea": "A", "on": "B", "finishToStart": True},
        {"kind": "requires", "idea": "B", "on": "A"},
    ]
    (conflict,) = _diagnosis(scenario([idea("A"), idea("B")], phases=FOUR, constraints=constraints))
    assert conflict.kind == "requires_cycle"
    assert {"constraints[1]", "constraints[2]"} <= set(conflict.constraints)


def test_a_finish_to_start_chain_longer_than_the_phases():
    constraints = [
        {"kind": "pin", "idea": "C", "phase": "improve"},
        {"kind": "requires", "idea": "C", "on": "B", "finishToStart": True},
        {"kind": "requires", "idea": "B", "on": "A", "finishToStart": True},
    ]
    (conflict,) = _diagnosis(scenario([idea("A"), idea("B"), idea("C")], phases=FOUR, constraints=constraints))
    assert conflict.kind == "requires_unsatisfiable"
    assert "constraints[0]" in conflict.constraints


def test_two_mandatory_ideas_that_exclude_each_other():
    constraints = [
        {"kind": "mandatory", "idea": "A"},
        {"kind": "mandatory", "idea": "B"},
        {"kind": "excludes", "ideas": ["A", "B"]},
    ]
    (conflict,) = _diagnosis(scenario([idea("A"), idea("B")], constraints=constraints))
    assert conflict.kind == "forced_excludes"
    assert set(conflict.constraints) == {"constraints[0]", "constraints[1]", "constraints[2]"}


def test_coverage_that_too_few_ideas_can_meet():
    ideas = [idea("A", attributes={"stage": "buy"}), idea("B", attributes={"stage": "use"})]
    constraints = [{"kind": "exclude", "idea": "B"}, {"kind": "coverage", "attribute": "stage", "atLeast": 1}]
    (conflict,) = _diagnosis(scenario(ideas, constraints=constraints))
    assert conflict.kind == "coverage_impossible"
    assert '"use"' in conflict.message and conflict.constraints == ("constraints[1]",)


def test_a_conflict_only_the_solver_sees_is_named_by_a_minimal_set():
    # Each stage can be covered, and the budget fits either, but not both with the mandatory idea.
    ideas = [
        idea("A", cost=60, attributes={"stage": "buy"}),
        idea("B", cost=60, attributes={"stage": "use"}),
        idea("M", cost=30),
        idea("X", cost=1),
    ]
    constraints = [
        {"kind": "exclude", "idea": "X"},
        {"kind": "mandatory", "idea": "M"},
        {"kind": "coverage", "attribute": "stage", "atLeast": 1},
    ]
    (conflict,) = _diagnosis(scenario(ideas, constraints=constraints))
    assert conflict.kind == "conflicting_constraints"
    assert set(conflict.constraints) == {"phases[0].budget", "constraints[2]"}
    assert "minimal" in conflict.message
