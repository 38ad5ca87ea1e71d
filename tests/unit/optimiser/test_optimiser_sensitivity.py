import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
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
    # What the next 2 buy, by name and value, and the gain per 1,000 of the currency.
    assert [(i.idea, i.phase, i.value) for i in p.next_step.added] == [("B", "p", 6)]
    assert p.next_step.removed == [] and p.next_step.moved == [] and p.next_step.gain_per_thousand == 3000


def test_a_budget_nothing_more_can_use_does_not_bind():
    instance, solution = run(scenario(THREE, phases=[{"key": "p", "budget": 100}]))
    (p,) = budget_sensitivity(instance, solution, SensitivityConfig())
    assert p.binding is False and p.next_step is None and p.proven
    assert (p.plateau.low, p.plateau.high) == (12, None)
    assert p.lp_price.price == 0
    # The relaxation spends 12 of 100: price 0 from 12 upwards, a range holding the budget.
    assert (p.lp_price.budget_low, p.lp_price.budget_high) == (12, None)


def test_the_next_step_names_what_it_gives_up_and_moves_for_what_it_buys():
    # Now A (10) fills `p` and B `q` (worth half there: 3). With 9 in `p`, A and B both fit in
    # `p` and C takes `q`: the step adds C, moves B, and gains 10 + 6 + 3 - 13 = 6.
    ideas = [idea("A", 10, 5), idea("B", 6, 4), idea("C", 6, 5)]
    document = scenario(ideas, phases=[{"key": "p", "budget": 5}, {"key": "q", "budget": 5}])
    document["objective"] = {"phaseDiscount": {"p": 1.0, "q": 0.5}}
    instance, solution = run(document)
    assert solution.objective == 13  # A in p (10) and B in q (3)
    step = budget_sensitivity(instance, solution, SensitivityConfig())[0].next_step
    assert (step.budget, step.extra, step.gain) == (9, 4, 6)
    assert [(a.idea, a.phase, a.value) for a in step.added] == [("C", "q", 3)]
    assert step.removed == []
    assert [(m.idea, m.from_, m.to) for m in step.moved] == [("B", "q", "p")]
    assert step.gain_per_thousand == 1500


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
