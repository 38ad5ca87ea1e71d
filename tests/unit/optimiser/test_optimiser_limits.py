"""Time limits: a run stopped by the limit says so, reports the best bound it knows, and
`roadmap solve` exits with its documented status even when HiGHS overran the limit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from optimiser_helpers import load, medium_scenario

from benchmarks.generated import multi_phase
from benchmarks.optimiser_scale import journey_scenario
from services.roadmap.optimiser import FEASIBLE, OPTIMAL, SolveConfig, solve, validate

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("seed", "limit"), [(1, 0.05), (2, 0.2), (3, 0.5)])
def test_a_run_the_limit_stopped_says_time_limit(seed, limit):
    instance = load(medium_scenario(seed, n=600))
    solution = solve(instance, SolveConfig.for_instance(instance, time_limit=limit, what_if_limit=0))
    assert solution.status in (OPTIMAL, FEASIBLE)
    assert validate(instance, solution.plan, solution.objective) == []
    if solution.status == FEASIBLE:
        assert solution.stats.stop_reason == "time_limit", solution.stats
    else:
        assert solution.stats.stop_reason == "completed"


def test_roadmap_solve_on_10000_ideas_at_a_short_limit_exits_0_with_the_lp_bound(tmp_path):
    scenario = tmp_path / "big.json"
    document = journey_scenario(10_000)
    scenario.write_bytes(msgspec.json.encode(document))
    out = tmp_path / "big.plan.json"
    # `python -m services.roadmap.cli` is `roadmap solve` from this checkout.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.roadmap.cli",
            str(scenario),
            "-o",
            str(out),
            "--time-limit",
            "6",
            "--what-if",
            "0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["status"] == "feasible"
    assert result["solver"]["stopReason"] == "time_limit"
    # The LP relaxation's bound, not the sum of the ideas' best values (a gap of 36% here).
    discount = document["objective"]["phaseDiscount"]
    trivial = sum(i["value"] * max(discount[p] for p in i["phases"]) for i in document["ideas"])
    assert result["objective"] <= result["bestBound"] < 0.8 * trivial


def test_a_big_backlog_at_a_short_limit_reports_each_better_plan_of_the_core_and_the_lp_bound():
    instance = load(multi_phase(2000, 1, teams=20))
    seen = []
    # Long enough for the LP and a core to improve on the greedy start on a loaded machine (at
    # 3 s, with two test workers and a benchmark on two cores, the core once found nothing),
    # far too short to prove the optimum.
    solution = solve(
        instance,
        SolveConfig.for_instance(instance, time_limit=8, what_if_limit=0),
        on_progress=lambda p: seen.append(p) or True,
    )
    greedy = solution.stats.greedy_objective
    assert solution.status == FEASIBLE and solution.stats.stop_reason == "time_limit"
    assert validate(instance, solution.plan, solution.objective) == []
    found = [p.objective for p in seen if p.stage == "search" and p.objective is not None]
    assert found[0] == greedy and found[-1] == solution.objective > greedy
    assert any(greedy < value < solution.objective for value in found), "plans in between are reported"
    # The LP relaxation's bound: within 1% of the plan, where the sum of best values is far off.
    trivial = sum(idea.value * max(instance.discount[p] for p in idea.phases) for idea in instance.ideas)
    assert solution.objective <= solution.best_bound < 1.01 * solution.objective < trivial
