"""The greedy's partial plan (greedy.py `_State`): what an idea still costs, which phase it prefers."""

import pytest
from optimiser_helpers import idea, load, scenario

from services.roadmap.optimiser.greedy import _State
from services.roadmap.optimiser.reach import analyse

pytestmark = pytest.mark.unit


def _state(document):
    instance = load(document)
    return instance, _State(instance, analyse(instance))


def test_missing_cost_counts_the_idea_and_its_unplanned_prerequisites_once():
    ideas = [idea("A", cost=1), idea("R1", cost=2), idea("R2", cost=4), idea("R3", cost=8), idea("R4", cost=16)]
    constraints = [
        {"kind": "requires", "idea": "A", "on": "R1"},
        {"kind": "requires", "idea": "A", "on": "R3"},
        {"kind": "requires", "idea": "R1", "on": "R2"},
        {"kind": "requires", "idea": "R3", "on": "R2"},  # R2 reached twice, counted once
        {"kind": "requires", "idea": "R2", "on": "R4"},
    ]
    instance, state = _state(scenario(ideas, constraints=constraints))
    assert state.missing_cost(0) == 1 + 2 + 4 + 8 + 16
    assert state.missing_cost(4) == 16  # no prerequisites: its own cost
    assert state.place(2)  # R2 with R4
    assert state.missing_cost(0) == 1 + 2 + 8
    assert state.missing_cost(2) == 0.0  # planned


def test_phases_are_preferred_by_discounted_value_then_earliest():
    phases = [{"key": k, "budget": 10} for k in ("a", "b", "c")]
    document = scenario(
        [idea("X", value=10), idea("Y", value=10, phases=["c"])],
        phases=phases,
        objective={"phaseDiscount": {"a": 0.5, "b": 1.0, "c": 1.0}},
    )
    _, state = _state(document)
    assert state.order == [[1, 2, 0], [2]]
