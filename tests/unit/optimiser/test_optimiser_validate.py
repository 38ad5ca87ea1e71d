import pytest
from optimiser_helpers import idea, load, scenario

from services.roadmap.optimiser import Plan, validate

pytestmark = pytest.mark.unit

PHASES = [{"key": "a", "budget": 10}, {"key": "b", "budget": 10}]
TEAMS = [{"key": "web", "capacity": {"a": 3, "b": 3}}]
IDEAS = [
    idea("I0", value=2, cost=6, effort={"web": 2}, attributes={"s": "x"}),
    idea("I1", value=3, cost=6, effort={"web": 2}, attributes={"s": "y"}),
    idea("I2", value=1, cost=1, phases=["b"], attributes={"s": "x"}),
]


def _kinds(constraints, assignments, objective=None):
    instance = load(scenario(IDEAS, phases=PHASES, teams=TEAMS, constraints=constraints))
    return {v.kind for v in validate(instance, Plan(assignments=tuple(assignments)), objective)}


def test_a_valid_plan_passes_with_its_objective():
    assert _kinds([], [(0, 0), (1, 1)], objective=5.0) == set()


@pytest.mark.parametrize(
    ("constraints", "assignments", "kind"),
    [
        ([], [(0, 0), (0, 1)], "once"),
        ([], [(2, 0)], "eligible"),
        ([], [(0, 0), (1, 0)], "budget"),
        ([], [(0, 1), (1, 1)], "budget"),
        ([{"kind": "mandatory", "idea": "I2"}], [], "mandatory"),
        ([{"kind": "pin", "idea": "I0", "phase": "b"}], [(0, 0)], "pin"),
        ([{"kind": "exclude", "idea": "I0"}], [(0, 0)], "exclude"),
        ([{"kind": "requires", "idea": "I0", "on": "I1"}], [(0, 0)], "requires"),
        ([{"kind": "requires", "idea": "I0", "on": "I1"}], [(0, 0), (1, 1)], "requires"),
        ([{"kind": "requires", "idea": "I0", "on": "I1", "finishToStart": True}], [(0, 1), (1, 1)], "requires"),
        ([{"kind": "excludes", "ideas": ["I0", "I1"]}], [(0, 0), (1, 1)], "excludes"),
        ([{"kind": "coverage", "attribute": "s", "atLeast": 1}], [(0, 0)], "coverage"),
        ([{"kind": "coverage", "attribute": "s", "atLeast": 1, "phase": "a"}], [(0, 1), (1, 0)], "coverage"),
    ],
)
def test_each_broken_rule_is_caught(constraints, assignments, kind):
    assert kind in _kinds(constraints, assignments)


def test_capacity_and_a_wrong_objective_are_caught():
    teams = [{"key": "web", "capacity": {"a": 1}}]
    instance = load(scenario(IDEAS, phases=PHASES, teams=teams))
    violations = validate(instance, Plan(assignments=((0, 0), (2, 1))), objective=4.0)
    assert {v.kind for v in violations} == {"capacity", "objective"}
    assert any("teams[0].capacity.a" in v.refs for v in violations)
