import csv
import json
import math
from pathlib import Path

import msgspec
import pytest

from services.roadmap.optimiser import OPTIMAL, SolveConfig, decode_scenario, solve, validate
from services.roadmap.optimiser.nrp import nrp_budget, nrp_scenario

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[2] / "data" / "nrp"


def _optima() -> dict[str, float]:
    with (DATA / "optima-halfup.csv").open() as f:
        return {r["ratio"]: float(r["objective"]) for r in csv.DictReader(f) if r["instance"] == "nrp1"}


@pytest.mark.parametrize("ratio", ["0.3", "0.5", "0.7"])
def test_nrp1_reaches_the_proven_optimum(ratio):
    nrp = json.loads((DATA / "nrp1.json").read_text())
    assert nrp_budget(nrp["meta"]["total_cost"], ratio) == nrp["meta"]["budget_round_half_up"][ratio]
    instance = decode_scenario(msgspec.json.encode(nrp_scenario(nrp, ratio)))
    solution = solve(instance, SolveConfig.for_instance(instance, time_limit=120, what_if_limit=0))
    assert solution.status == OPTIMAL
    assert math.isclose(solution.objective, _optima()[ratio], rel_tol=1e-6)
    assert solution.best_bound == solution.objective and solution.gap == 0
    assert validate(instance, solution.plan, solution.objective) == []


def test_a_time_limit_still_returns_a_plan_with_an_honest_bound():
    nrp = json.loads((DATA / "nrp1.json").read_text())
    instance = decode_scenario(msgspec.json.encode(nrp_scenario(nrp, "0.5")))
    solution = solve(instance, SolveConfig.for_instance(instance, time_limit=0.05, what_if_limit=0))
    assert solution.plan is not None and validate(instance, solution.plan, solution.objective) == []
    assert solution.best_bound >= _optima()["0.5"] - 1e-6
    if solution.status == OPTIMAL:
        assert math.isclose(solution.objective, _optima()["0.5"])
    else:
        assert solution.gap > 0 and solution.objective <= _optima()["0.5"]


def test_a_loose_gap_is_not_reported_as_optimal_unless_the_bound_proves_it():
    nrp = json.loads((DATA / "nrp1.json").read_text())
    instance = decode_scenario(msgspec.json.encode(nrp_scenario(nrp, "0.5")))
    solution = solve(instance, SolveConfig.for_instance(instance, gap=0.2, what_if_limit=0))
    assert solution.plan is not None
    proven = solution.best_bound - solution.objective < 0.5
    assert (solution.status == OPTIMAL) == proven
    assert solution.best_bound >= _optima()["0.5"] - 1e-6
