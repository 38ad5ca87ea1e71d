import pytest
from optimiser_helpers import idea, run, scenario

from services.roadmap.optimiser import OPTIMAL

pytestmark = pytest.mark.unit

TWO = [{"key": "improve", "budget": 100}, {"key": "perfection", "budget": 100}]


def _reasons(document, **config):
    instance, solution = run(document, **config)
    assert solution.status == OPTIMAL
    return {instance.ideas[lo.idea].id: (lo.reason, lo.detail) for lo in solution.left_out}


def test_excluded_and_not_eligible():
    reasons = _reasons(scenario([idea("A"), idea("B", phases=[])], constraints=[{"kind": "exclude", "idea": "A"}]))
    assert reasons["A"] == ("excluded", {"constraint": "constraints[0]"})
    assert reasons["B"][0] == "not_eligible"


def test_blocked_by_a_dependency():
    constraints = [{"kind": "exclude", "idea": "A"}, {"kind": "requires", "idea": "B", "on": "A"}]
    reasons = _reasons(scenario([idea("A"), idea("B", value=50)], constraints=constraints))
    reason, detail = reasons["B"]
    assert reason == "blocked_by_dependency"
    assert detail["requires"] == "A" and detail["constraint"] == "constraints[1]"


def test_blocked_because_a_finish_to_start_prerequisite_cannot_come_earlier():
    constraints = [{"kind": "requires", "idea": "B", "on": "A", "finishToStart": True}]
    reasons = _reasons(
        scenario(
            [idea("A", phases=["perfection"]), idea("B", value=9, phases=["improve", "perfection"])],
            phases=TWO,
            constraints=constraints,
        )
    )
    assert reasons["B"][0] == "blocked_by_dependency"
    assert "strictly before" in reasons["B"][1]["message"]


def test_excluded_by_a_chosen_idea():
    reasons = _reasons(
        scenario([idea("A", value=5), idea("B", value=3)], constraints=[{"kind": "excludes", "ideas": ["A", "B"]}])
    )
    assert reasons["B"] == ("excluded_by", {"constraint": "constraints[0]", "with": "A"})


def test_no_value():
    assert _reasons(scenario([idea("A", value=0, cost=1)]))["A"][0] == "no_value"


def test_budget_with_the_extra_budget_and_a_what_if_resolve():
    ideas = [idea("A", value=10, cost=70), idea("B", value=6, cost=50), idea("C", value=4, cost=40)]
    reasons = _reasons(scenario(ideas))
    reason, detail = reasons["B"]
    assert reason == "budget"
    # The plan is A + ... : A (70) leaves 30; B needs 50, so 20 more.
    assert detail["extraBudget"] == [{"phase": "p", "amount": 20.0}]
    what_if = detail["whatIf"]
    # Forcing B in: best is B + C (value 10) against A (value 10) + nothing else... ties go cheaper.
    assert what_if["feasible"] is True and what_if["proven"] is True
    assert what_if["objectiveWithIt"] == 10 and what_if["loss"] == 0
    assert what_if["entersAboveValue"] == 6


def test_budget_brings_its_prerequisites_along():
    ideas = [idea("R", value=0, cost=30), idea("C", value=5, cost=0), idea("D", value=8, cost=80)]
    reasons = _reasons(scenario(ideas, constraints=[{"kind": "requires", "idea": "C", "on": "R"}]))
    reason, detail = reasons["C"]
    assert reason == "budget"
    assert detail["withPrerequisites"] == ["R"]
    assert detail["extraBudget"] == [{"phase": "p", "amount": 10.0}]
    assert detail["whatIf"]["loss"] == 3 and detail["whatIf"]["displaces"] == ["D"]


def test_capacity_names_the_team_and_phase():
    teams = [{"key": "web", "capacity": {"improve": 5}}]
    ideas = [
        idea("A", value=9, effort={"web": 4}, phases=["improve"]),
        idea("B", value=2, effort={"web": 3}, phases=["improve"]),
    ]
    reason, detail = _reasons(scenario(ideas, phases=TWO, teams=teams))["B"]
    assert reason == "capacity"
    assert detail["extraCapacity"] == [{"team": "web", "phase": "improve", "amount": 2.0}]


def test_what_ifs_beyond_the_limit_are_marked_as_skipped():
    ideas = [idea(f"I{k}", value=10 - k, cost=60) for k in range(4)]
    instance, solution = run(scenario(ideas), what_if_limit=1)
    budgeted = [lo for lo in solution.left_out if lo.reason == "budget"]
    assert len(budgeted) == 3
    assert sum(lo.detail["whatIf"] is not None for lo in budgeted) == 1
    assert (solution.stats.explained_what_if, solution.stats.skipped_what_if) == (1, 2)
