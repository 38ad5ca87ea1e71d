import itertools
import math

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from optimiser_helpers import idea, run, scenario, scenarios

from services.roadmap.optimiser import OPTIMAL, Plan, SolveConfig, alternatives, alternatives_document, validate
from services.roadmap.optimiser.alternatives import difference
from services.roadmap.optimiser.instance import plan_score, plan_value

pytestmark = pytest.mark.unit

FIVE = [idea("A", 9, 5), idea("B", 8, 5), idea("C", 7, 5), idea("D", 6, 5), idea("E", 1, 5)]


def _config(instance, limit: float = 20) -> SolveConfig:
    return SolveConfig.for_instance(instance, time_limit=limit)


def test_alternatives_differ_enough_lose_little_enough_and_are_proven():
    instance, best = run(scenario(FIVE, phases=[{"key": "p", "budget": 15}]))
    assert best.objective == 24  # A, B, C
    found = alternatives(instance, best, _config(instance), count=3, min_difference=2, max_loss=0.3)
    assert found.stop_reason == "count_reached" and len(found.alternatives) == 3
    plans = [best.plan] + [a.plan for a in found.alternatives]
    for a, b in itertools.combinations(plans, 2):
        assert difference(a, b) >= 2
    for alt in found.alternatives:
        assert alt.status == OPTIMAL
        assert validate(instance, alt.plan, alt.objective) == []
        assert alt.loss <= 0.3 and math.isclose(alt.loss, (24 - alt.objective) / 24)
    first = found.alternatives[0]
    assert first.objective == 23  # A, B, D: C swapped for D (one removed, one added)
    assert [instance.ideas[i].id for i, _ in first.removed] == ["C"]
    assert [instance.ideas[i].id for i, _ in first.added] == ["D"]
    objectives = [a.objective for a in found.alternatives]
    assert objectives == sorted(objectives, reverse=True)


def test_the_search_says_when_no_other_plan_is_good_enough():
    instance, best = run(scenario(FIVE, phases=[{"key": "p", "budget": 15}]))
    found = alternatives(instance, best, _config(instance), count=5, min_difference=1, max_loss=0.01)
    assert found.alternatives == () and found.stop_reason == "none_left"


def test_moving_an_idea_to_another_phase_counts_as_a_difference():
    phases = [{"key": "now", "budget": 5}, {"key": "next", "budget": 5}]
    document = scenario([idea("A", 2, 5), idea("B", 1, 5)], phases=phases, objective={"phaseDiscount": {"next": 0.9}})
    instance, best = run(document)
    found = alternatives(instance, best, _config(instance), count=1, min_difference=2, max_loss=0.2)
    (alt,) = found.alternatives
    assert sorted(alt.moved) == [(0, 0, 1), (1, 1, 0)]  # A and B swap phases
    doc = msgspec.to_builtins(alternatives_document(instance, found))
    assert doc["stopReason"] == "count_reached"
    assert doc["alternatives"][0]["moved"] == [
        {"idea": "A", "from": "now", "to": "next"},
        {"idea": "B", "from": "next", "to": "now"},
    ]
    assert doc["alternatives"][0]["added"] == doc["alternatives"][0]["removed"] == []


def test_there_are_no_alternatives_to_no_plan():
    document = scenario([idea("A")], constraints=[{"kind": "mandatory", "idea": "A"}, {"kind": "exclude", "idea": "A"}])
    instance, best = run(document)
    found = alternatives(instance, best, _config(instance), count=2, min_difference=1, max_loss=0.5)
    assert found.alternatives == () and found.stop_reason == "no_plan"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(1, 2), st.sampled_from([0.0, 0.2, 0.5, 1.0]))
def test_the_first_alternative_is_the_best_plan_that_differs_enough(document, d, max_loss):
    instance, best = run(document, what_if_limit=0)
    if best.plan is None:
        return
    found = alternatives(instance, best, _config(instance), count=1, min_difference=d, max_loss=max_loss)
    floor = (1 - max_loss) * best.objective - 1e-9
    scores = [
        plan_score(instance, plan)
        for plan in _plans(instance)
        if not validate(instance, plan) and difference(plan, best.plan) >= d and plan_value(instance, plan) >= floor
    ]
    if not scores:
        assert found.stop_reason == "none_left"
        return
    (alt,) = found.alternatives
    assert alt.status == OPTIMAL
    assert math.isclose(plan_score(instance, alt.plan), max(scores), abs_tol=1e-9)


def _plans(instance):
    choices = [(None, *i.phases) for i in instance.ideas]
    for combo in itertools.product(*choices):
        yield Plan(assignments=tuple((i, p) for i, p in enumerate(combo) if p is not None))
