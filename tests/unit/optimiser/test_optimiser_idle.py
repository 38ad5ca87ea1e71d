"""Dropping idle ideas: no value, needed by nothing (idle.py)."""

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from optimiser_helpers import idea, load, scenario, scenarios
from oracle import cost as oracle_cost, feasible, value as oracle_value

from services.roadmap.optimiser.idle import drop_idle_ideas
from services.roadmap.optimiser.instance import Plan, plan_cost, plan_score
from services.roadmap.optimiser.validate import validate

pytestmark = pytest.mark.unit


def _plan(instance, ids: list[str], phase: int = 0) -> Plan:
    at = {idea.id: n for n, idea in enumerate(instance.ideas)}
    return Plan(tuple(sorted((at[i], phase) for i in ids)))


def _ids(instance, plan: Plan) -> set[str]:
    return {instance.ideas[i].id for i, _ in plan.assignments}


def test_a_prerequisite_nothing_needs_any_more_is_dropped_with_its_own_prerequisites():
    ideas = [idea("A", value=5, cost=10), idea("B", value=4, cost=50)]
    ideas += [idea("R1", value=0, cost=3), idea("R2", value=0, cost=4), idea("R3", value=0, cost=2)]
    constraints = [
        {"kind": "requires", "idea": "A", "on": "R1"},
        {"kind": "requires", "idea": "B", "on": "R2"},  # B is not chosen: R2 serves nobody
        {"kind": "requires", "idea": "R2", "on": "R3"},  # so R3, needed only by R2, goes too
    ]
    instance = load(scenario(ideas, constraints=constraints))
    plan = _plan(instance, ["A", "R1", "R2", "R3"])
    assert _ids(instance, drop_idle_ideas(instance, plan)) == {"A", "R1"}


def test_mandatory_pinned_and_free_ideas_stay():
    ideas = [idea("M", value=0, cost=5), idea("P", value=0, cost=5), idea("F", value=0, cost=0)]
    constraints = [{"kind": "mandatory", "idea": "M"}, {"kind": "pin", "idea": "P", "phase": "p"}]
    instance = load(scenario(ideas, constraints=constraints))
    plan = _plan(instance, ["M", "P", "F"])
    assert drop_idle_ideas(instance, plan) == plan


def test_a_coverage_keeps_as_many_as_it_needs_and_the_dearer_one_goes():
    ideas = [
        idea("X", value=0, cost=2, attributes={"stage": "s1"}),
        idea("Y", value=0, cost=7, attributes={"stage": "s1"}),
        idea("Z", value=0, cost=3, attributes={"stage": "s2"}),
    ]
    instance = load(scenario(ideas, constraints=[{"kind": "coverage", "attribute": "stage", "atLeast": 1}]))
    assert _ids(instance, drop_idle_ideas(instance, _plan(instance, ["X", "Y", "Z"]))) == {"X", "Z"}


def test_an_idea_kept_in_its_baseline_phase_is_not_idle():
    # Its value is zero, but keeping it where the approved plan had it avoids the move penalty.
    document = scenario(
        [idea("K", value=0, cost=5)], baseline={"movePenalty": 1, "assignments": [{"idea": "K", "phase": "p"}]}
    )
    instance = load(document)
    plan = _plan(instance, ["K"])
    assert drop_idle_ideas(instance, plan) == plan


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_dropping_idle_ideas_keeps_every_rule_and_the_value_and_never_costs_more(document):
    # Every feasible plan of a small scenario, judged by the independent oracle.
    instance = load(document)
    choices = [[None, *range(len(instance.phases))] for _ in instance.ideas]
    for combo in itertools.islice(itertools.product(*choices), 400):
        plan = Plan(tuple((i, p) for i, p in enumerate(combo) if p is not None))
        if validate(instance, plan):
            continue
        dropped = drop_idle_ideas(instance, plan)
        as_doc = {instance.ideas[i].id: instance.phases[p].key for i, p in dropped.assignments}
        assert feasible(document, as_doc)
        assert set(dropped.assignments) <= set(plan.assignments)
        assert math.isclose(plan_score(instance, dropped), plan_score(instance, plan), abs_tol=1e-9)
        assert math.isclose(oracle_value(document, as_doc), sum(
            instance.value_in(i, p) for i, p in plan.assignments), abs_tol=1e-9)  # fmt: skip
        assert oracle_cost(document, as_doc) <= plan_cost(instance, plan) + 1e-9


def test_a_plan_without_idle_ideas_comes_back_as_it_is():
    ideas = [idea("A", value=5, cost=10), idea("R1", value=0, cost=3)]
    instance = load(scenario(ideas, constraints=[{"kind": "requires", "idea": "A", "on": "R1"}]))
    plan = _plan(instance, ["A", "R1"])
    assert drop_idle_ideas(instance, plan) is plan
