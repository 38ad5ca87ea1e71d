"""A model's rows go to HiGHS as built (model.py, highs_solver.py): the same model PuLP's rows make."""

import pulp
import pytest
from optimiser_helpers import idea, load, medium_scenario, scenario

from services.roadmap.optimiser import highs
from services.roadmap.optimiser.highs_solver import HiGHSWithStart
from services.roadmap.optimiser.model import build_model
from services.roadmap.optimiser.reach import analyse

pytestmark = pytest.mark.unit

ALL_KINDS = scenario(
    [
        idea("A", value=5.5, cost=3, effort={"web": 2}, attributes={"stage": "buy"}),
        idea("B", value=4, cost=4, effort={"web": 1}, phases=["next"], attributes={"stage": "buy"}),
        idea("C", value=3.2, cost=2, attributes={"stage": "use"}),
        idea("D", value=7, cost=6, effort={"web": 3}, attributes={"stage": "use"}),
        idea("E", value=1, cost=1),
        idea("F", value=2, cost=5),
        idea("G", value=0, cost=2),
    ],
    phases=[{"key": "now", "budget": 10}, {"key": "next", "budget": 12}],
    teams=[{"key": "web", "capacity": {"now": 5, "next": 4}}],
    constraints=[
        {"kind": "mandatory", "idea": "C"},
        {"kind": "pin", "idea": "A", "phase": "now"},
        {"kind": "exclude", "idea": "G"},
        {"kind": "requires", "idea": "D", "on": "B", "finishToStart": True},
        {"kind": "excludes", "ideas": ["E", "F"]},
        {"kind": "coverage", "attribute": "stage", "atLeast": 1},
    ],
    objective={"phaseDiscount": {"next": 0.75}},
)


def _highs_model(model, *, as_built: bool) -> tuple:
    solver = HiGHSWithStart(None, msg=False, rows=model.pending_rows() if as_built else None)
    prob = model.problem() if as_built else model.prob
    solver.createAndConfigureSolver(prob)
    solver.buildSolverModel(prob)
    lp = prob.solverModel.getLp()
    matrix = lp.a_matrix_
    columns = (list(lp.col_cost_), list(lp.col_lower_), list(lp.col_upper_), list(lp.integrality_))
    return (
        columns,
        (list(lp.row_lower_), list(lp.row_upper_)),
        (list(matrix.start_), list(matrix.index_), list(matrix.value_)),
    )


@pytest.mark.parametrize("document", [ALL_KINDS, medium_scenario(n=60)], ids=["all kinds", "medium"])
@pytest.mark.parametrize("variant", ["pruned", "whole", "forced", "dropped"])
def test_rows_as_built_make_the_same_highs_model_as_pulps_rows(document, variant):
    instance = load(document)
    options = {
        "pruned": {"reach": analyse(instance)},
        "whole": {},
        "forced": {"force_in": 3, "reach": analyse(instance)},
        "dropped": {"drop": frozenset({"constraints[5]", "phases[0].budget"})},
    }[variant]
    built = build_model(instance, **options)
    assert built.pending_rows() is not None
    expected = _highs_model(build_model(instance, **options), as_built=False)
    assert _highs_model(built, as_built=True) == expected
    assert expected[1][0], "the model has rows"


def test_the_pulp_problem_gets_every_row_once_when_asked_for():
    instance = load(ALL_KINDS)
    model = build_model(instance)
    rows = len(model.pending_rows())
    assert model.problem().constraints() == []
    assert len(model.prob.constraints()) == rows
    assert model.pending_rows() is None
    assert len(model.prob.constraints()) == rows
    names = [name for group in model.groups.values() for name in group]
    assert sorted(c.name for c in model.prob.constraints()) == sorted(names)


def test_a_model_without_objective_has_its_rows_in_pulp_at_once():
    model = build_model(load(ALL_KINDS), objective=False)
    assert model.pending_rows() is None
    assert model.problem().constraints()


def test_a_row_added_through_pulp_after_the_build_is_solved_with():
    instance = load(scenario([idea("A", value=5, cost=1), idea("B", value=1, cost=1)]))
    model = build_model(instance)
    assert highs.run(model, time_limit=10, relative_gap=0).plan.assignments == ((0, 0), (1, 0))
    model = build_model(instance)
    a = model.x[0, 0]
    model.prob.addConstraint(
        pulp.LpConstraint(pulp.LpAffineExpression({a: 1.0}), sense=pulp.LpConstraintLE, rhs=0, name="no_a")
    )
    assert highs.run(model, time_limit=10, relative_gap=0).plan.assignments == ((1, 0),)
