import math

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from optimiser_helpers import load, scenarios
from oracle import brute_force

from services.roadmap.optimiser import INFEASIBLE, OPTIMAL, SolveConfig, greedy_plan, plan_value, solve, validate
from services.roadmap.optimiser.instance import plan_cost

pytestmark = pytest.mark.unit

REASONS = {"excluded", "not_eligible", "blocked_by_dependency", "excluded_by", "no_value", "budget", "capacity"}


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_the_optimum_equals_brute_force_and_beats_greedy(document):
    instance = load(document)
    solution = solve(instance, SolveConfig.for_instance(instance, time_limit=20, what_if_limit=1))
    best = brute_force(document)
    if best is None:
        assert solution.status == INFEASIBLE
        assert solution.plan is None and solution.diagnosis
        return
    assert solution.status == OPTIMAL
    assert validate(instance, solution.plan, solution.objective) == []
    assert math.isclose(solution.objective, best[0], abs_tol=1e-9)
    assert math.isclose(plan_cost(instance, solution.plan), best[1]), "ties go to the cheaper plan"
    assert solution.best_bound == solution.objective
    greedy = greedy_plan(instance)
    if greedy is not None:
        assert validate(instance, greedy) == []
        assert plan_value(instance, greedy) <= solution.objective + 1e-9
    chosen = {i for i, _ in solution.plan.assignments}
    assert sorted(lo.idea for lo in solution.left_out) == [i for i in range(len(instance.ideas)) if i not in chosen]
    assert {lo.reason for lo in solution.left_out} <= REASONS


@SETTINGS
@given(scenarios(), st.sampled_from([0.001, 0.01]))
def test_every_plan_passes_the_validator_even_when_stopped_early(document, limit):
    instance = load(document)
    solution = solve(instance, SolveConfig.for_instance(instance, time_limit=limit, gap=0.3, what_if_limit=0))
    if solution.plan is not None:
        assert validate(instance, solution.plan, solution.objective) == []
        assert solution.best_bound >= solution.objective
        best = brute_force(document)
        assert best is not None and solution.best_bound >= best[0] - 1e-9
