import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optimiser_helpers import idea, run, scenario, scenarios
from oracle import brute_force

from services.roadmap.optimiser import OPTIMAL, SensitivityConfig, budget_sensitivity

pytestmark = pytest.mark.unit

THREE = [idea("A", 10, 4), idea("B", 6, 4), idea("C", 3, 4)]


def test_a_binding_budget_reports_its_plateau_next_step_and_lp_price():
    instance, solution = run(scenario(THREE, phases=[{"key": "p", "budget": 6}]))
    (p,) = budget_sensitivity(instance, solution, SensitivityConfig())
    assert (p.phase, p.budget, p.spend) == ("p", 6, 4)
    assert p.binding and p.proven
    assert (p.plateau.low, p.plateau.high) == (4, 8)  # A alone needs 4; A and B need 8
    assert (p.next_step.budget, p.next_step.extra, p.next_step.gain, p.next_step.gain_per_unit) == (8, 2, 6, 3)
    # The relaxation takes half of B: 6 / 4 per unit, until A is alone (4) or B is whole (8).
    assert (p.lp_price.price, p.lp_price.budget_low, p.lp_price.budget_high) == (1.5, 4, 8)


def test_a_budget_nothing_more_can_use_does_not_bind():
    instance, solution = run(scenario(THREE, phases=[{"key": "p", "budget": 100}]))
    (p,) = budget_sensitivity(instance, solution, SensitivityConfig())
    assert p.binding is False and p.next_step is None and p.proven
    assert (p.plateau.low, p.plateau.high) == (12, None)
    assert p.lp_price.price == 0


def test_the_solve_limit_is_kept_and_said():
    instance, solution = run(scenario(THREE, phases=[{"key": "p", "budget": 6}, {"key": "q", "budget": 6}]))
    out = budget_sensitivity(instance, solution, SensitivityConfig(max_solves=4))  # the LP, then three per phase
    assert out[0].proven and out[0].plateau is not None
    assert out[1].binding is None and not out[1].proven and "limit" in out[1].note


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.data())
def test_the_plateau_and_next_step_match_brute_force(document, data):
    instance, solution = run(document, what_if_limit=0)
    if solution.status != OPTIMAL:
        return
    p = data.draw(st.integers(0, len(instance.phases) - 1))
    result = budget_sensitivity(instance, solution, SensitivityConfig())[p]
    assert result.proven

    def best_with(budget):
        phases = [dict(ph) for ph in document["phases"]]
        phases[p]["budget"] = budget
        found = brute_force({**document, "phases": phases})
        return None if found is None else found[0]

    now = solution.objective
    low, high = result.plateau.low, result.plateau.high
    assert best_with(low) == pytest.approx(now)
    if low >= 1:  # costs are whole numbers: a budget of low - 1 cannot keep every idea
        below = best_with(low - 1)
        assert below is None or below < now - 1e-9
    if high is None:
        assert best_with(1000) == pytest.approx(now)
    else:
        assert best_with(high - 1) == pytest.approx(now)
        assert best_with(high) == pytest.approx(now + result.next_step.gain)
