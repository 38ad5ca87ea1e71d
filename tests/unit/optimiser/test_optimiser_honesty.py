"""The optimiser never claims more than it proved, and never hands back less than HiGHS found.

The README's scenario with the improve budget at 300,000 is the case that HiGHS 1.16 gets
wrong when it is given a start with presolve on: it reports the optimum's objective while its
solution still holds the start. Judged against a naive model solved by plain highspy without
a start (tests/unit/optimiser/oracle.py), and over many variants of that scenario.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest
from oracle import brute_force, feasible, highs_optimum, value

from services.roadmap.optimiser import OPTIMAL, Plan, SolveConfig, decode_scenario, solve, validate

pytestmark = pytest.mark.unit

README_SCENARIO = Path(__file__).parents[2] / "data" / "optimiser" / "readme_improve_300k.json"


def readme_document() -> dict:
    return json.loads(README_SCENARIO.read_text())


def solved(document: dict, **config):
    instance = decode_scenario(json.dumps(document).encode())
    return instance, solve(instance, SolveConfig.for_instance(instance, **config))


def test_the_readme_scenario_at_300k_returns_the_optimum_highs_found():
    document = readme_document()
    status, optimum = highs_optimum(document)
    assert status == "Optimal"
    instance, solution = solved(document)
    assert solution.status == OPTIMAL
    assert solution.objective == pytest.approx(optimum, abs=1e-6)
    assert solution.gap == 0.0
    plan = {instance.ideas[i].id: instance.phases[p].key for i, p in solution.plan.assignments}
    assert feasible(document, plan)
    assert value(document, plan) == pytest.approx(optimum, abs=1e-6)
    # No left-out idea can be added at no loss to a proven optimum.
    for left in solution.left_out:
        what_if = left.detail.get("whatIf")
        if what_if and what_if["feasible"]:
            assert what_if["objectiveWithIt"] <= solution.objective + 1e-9


def variant(seed: int) -> dict:
    """The README scenario with its values moved by up to 20% and some ideas left out."""
    rng = random.Random(seed)
    document = copy.deepcopy(readme_document())
    for idea in document["ideas"]:
        idea["value"] = round(idea["value"] * rng.uniform(0.8, 1.2), 2)
    if seed % 2:
        document["ideas"] = rng.sample(document["ideas"], rng.randint(20, len(document["ideas"])))
    return document


@pytest.mark.parametrize("seed", range(24))
def test_whenever_highs_proves_an_optimum_ours_is_that_optimum(seed):
    document = variant(seed)
    status, optimum = highs_optimum(document)
    _, solution = solved(document, what_if_limit=0)
    if status == "Optimal":
        assert solution.status == OPTIMAL
        assert solution.objective == pytest.approx(optimum, abs=1e-6)


FTS_DOC = {
    "phases": [{"key": "a", "budget": 10}, {"key": "b", "budget": 10}],
    "ideas": [
        {"id": "X", "value": 1, "cost": 5},
        {"id": "Y", "value": 1, "cost": 5, "attributes": {"k": "v"}},
        {"id": "Z", "value": 1, "cost": 5, "attributes": {"k": "w"}},
    ],
    "constraints": [
        {"kind": "requires", "idea": "Y", "on": "X", "finishToStart": True},
        {"kind": "coverage", "attribute": "k", "atLeast": 1},
    ],
}


def as_plan(instance, chosen: dict[str, str]) -> Plan:
    ids = {idea.id: n for n, idea in enumerate(instance.ideas)}
    keys = {phase.key: n for n, phase in enumerate(instance.phases)}
    return Plan(assignments=tuple(sorted((ids[i], keys[p]) for i, p in chosen.items())))


@pytest.mark.parametrize(
    ("chosen", "keeps"),
    [
        ({"X": "a", "Y": "b", "Z": "b"}, True),  # finish-to-start in order, coverage met exactly
        ({"X": "a", "Y": "b", "Z": "a"}, True),
        ({"X": "b", "Y": "b", "Z": "a"}, False),  # finish-to-start: same phase is too late
        ({"Y": "b", "Z": "a"}, False),  # the prerequisite is missing
        ({"X": "a", "Z": "b"}, False),  # coverage of k = "v" not met
        ({"X": "a", "Y": "a", "Z": "b"}, False),  # finish-to-start in one phase
    ],
)
def test_the_oracle_and_the_validator_agree_on_kept_and_broken_rules(chosen, keeps):
    instance = decode_scenario(json.dumps(FTS_DOC).encode())
    assert feasible(FTS_DOC, chosen) is keeps
    assert (validate(instance, as_plan(instance, chosen)) == []) is keeps


def test_the_optimiser_plans_a_satisfied_finish_to_start_pair_and_exact_coverage():
    # The optimum needs X before Y and exactly one idea per value of k: every budget unit is used.
    _, solution = solved(FTS_DOC)
    assert solution.status == OPTIMAL
    assert solution.objective == pytest.approx(brute_force(FTS_DOC)[0]) == pytest.approx(3.0)
