import math

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from optimiser_helpers import idea, load, run, scenario, scenarios
from oracle import brute_force

from services.roadmap.optimiser import OPTIMAL, ScenarioError, result_document, validate
from services.roadmap.optimiser.instance import baseline_penalty, plan_cost, plan_value
from services.roadmap.optimiser.result import summary

pytestmark = pytest.mark.unit

PHASES = [{"key": "now", "budget": 10}, {"key": "next", "budget": 10}]


def _shifted(penalty: float, budget_now: float = 10) -> dict:
    """A and B fit in `now`; approved with B in `now` and A in `next`, but A is worth more early."""
    return scenario(
        [idea("A", value=10, cost=10), idea("B", value=1, cost=10)],
        phases=[{"key": "now", "budget": budget_now}, {"key": "next", "budget": 10}],
        objective={"phaseDiscount": {"now": 1.0, "next": 0.5}},
        baseline={
            "assignments": [{"idea": "B", "phase": "now"}, {"idea": "A", "phase": "next"}],
            "movePenalty": penalty,
        },
    )


def test_a_high_move_penalty_keeps_the_approved_plan_while_it_is_feasible():
    instance, solution = run(_shifted(penalty=100))
    assert solution.status == OPTIMAL
    assert sorted(solution.plan.assignments) == [(0, 1), (1, 0)]  # A next, B now: as approved
    assert solution.objective == 6  # the pure value sum: 10 x 0.5 + 1
    assert solution.baseline_penalty == 0 and solution.objective_with_penalty == 6
    doc = msgspec.to_builtins(result_document(instance, solution))
    assert doc["baseline"]["kept"] == [{"idea": "A", "phase": "next"}, {"idea": "B", "phase": "now"}]
    assert doc["baseline"]["moved"] == doc["baseline"]["dropped"] == doc["baseline"]["added"] == []
    assert doc["baselinePenalty"] == 0 and doc["objectiveWithPenalty"] == 6


def test_a_small_penalty_is_paid_when_moving_is_worth_more():
    instance, solution = run(_shifted(penalty=1))
    assert sorted(solution.plan.assignments) == [(0, 0), (1, 1)]  # A now, B next: both moved
    assert solution.objective == 10.5 and solution.baseline_penalty == 2
    assert solution.objective_with_penalty == 8.5 and solution.best_bound == 8.5
    doc = msgspec.to_builtins(result_document(instance, solution))
    assert doc["baseline"]["moved"] == [
        {"idea": "A", "from": "next", "to": "now"},
        {"idea": "B", "from": "now", "to": "next"},
    ]
    # The printed summary puts the bound beside the figure it bounds, with the penalty paid.
    line = next(text for text in summary(result_document(instance, solution)).splitlines() if "best bound" in text)
    assert "Value: 10.5" in line and "move penalty paid: 2" in line
    assert "value minus penalty: 8.5   best bound: 8.5" in line


def test_with_zero_penalty_the_plan_is_as_good_as_the_plain_optimum():
    document = _shifted(penalty=0)
    _, penalised = run(document)
    _, plain = run({k: v for k, v in document.items() if k != "baseline"})
    assert penalised.objective == plain.objective == penalised.objective_with_penalty
    assert plain.baseline_penalty is None and plain.objective_with_penalty is None


def test_an_approved_plan_that_no_longer_fits_pays_for_what_must_go():
    instance, solution = run(_shifted(penalty=100, budget_now=0))
    assert solution.status == OPTIMAL and validate(instance, solution.plan) == []
    assert solution.plan.assignments == ((0, 1),)  # A kept in next; B has no room left
    assert solution.baseline_penalty == 100 and solution.objective_with_penalty == 5 - 100
    doc = msgspec.to_builtins(result_document(instance, solution))
    assert doc["baseline"]["dropped"] == [{"idea": "B", "phase": "now"}]


def test_approved_ideas_no_longer_in_the_scenario_are_ignored_and_named():
    document = _shifted(penalty=5)
    document["baseline"]["assignments"].append({"idea": "GONE", "phase": "now"})
    instance, solution = run(document)
    assert instance.baseline.ignored == ("GONE",)
    assert result_document(instance, solution).baseline.ignored == ["GONE"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"assignments": [{"idea": "A", "phase": "later"}]}, "baseline.assignments[0].phase"),
        (
            {"assignments": [{"idea": "A", "phase": "now"}, {"idea": "A", "phase": "next"}]},
            "baseline.assignments[1].idea",
        ),
        ({"movePenalty": -1}, "baseline.movePenalty"),
        ({"assignments": [{"idea": "A"}]}, "baseline.assignments[0]"),
    ],
)
def test_a_bad_baseline_names_the_field(change, path):
    document = _shifted(penalty=1)
    document["baseline"].update(change)
    with pytest.raises(ScenarioError) as caught:
        load(document)
    assert caught.value.path == path


@st.composite
def with_baseline(draw):
    document = draw(scenarios())
    phases = [p["key"] for p in document["phases"]]
    ids = [i["id"] for i in document["ideas"]] + ["GONE"]
    approved = draw(st.lists(st.sampled_from(ids), unique=True, max_size=4))
    document["baseline"] = {
        "assignments": [{"idea": i, "phase": draw(st.sampled_from(phases))} for i in approved],
        "movePenalty": draw(st.sampled_from([0, 0.5, 1, 2.5, 10, 100])),
    }
    return document


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(with_baseline())
def test_the_penalised_optimum_equals_brute_force(document):
    instance, solution = run(document, what_if_limit=0)
    best = brute_force(document)
    if best is None:
        assert solution.plan is None
        return
    assert solution.status == OPTIMAL
    assert validate(instance, solution.plan, solution.objective) == []
    assert solution.baseline_penalty == baseline_penalty(instance, solution.plan)
    assert math.isclose(solution.objective_with_penalty, best[0], abs_tol=1e-9)
    assert math.isclose(solution.objective, plan_value(instance, solution.plan))
    assert math.isclose(plan_cost(instance, solution.plan), best[1]), "ties go to the cheaper plan"
    assert solution.best_bound == solution.objective_with_penalty
