import threading

import pytest
from optimiser_helpers import idea, load, medium_scenario, scenario

from services.roadmap.optimiser import (
    FEASIBLE,
    OPTIMAL,
    Progress,
    SolveConfig,
    greedy_plan,
    plan_value,
    result_document,
    solve,
    validate,
)

pytestmark = pytest.mark.unit


def _config(instance, limit: float = 20):
    return SolveConfig.for_instance(instance, time_limit=limit, what_if_limit=0)


def test_progress_reports_ever_better_valid_plans_and_ever_tighter_bounds():
    instance = load(medium_scenario())
    seen: list[Progress] = []
    calls_in = set()

    def record(progress: Progress) -> bool:
        calls_in.add(threading.get_ident())
        seen.append(progress)
        return True

    solution = solve(instance, _config(instance, limit=2), on_progress=record)
    search = [p for p in seen if p.stage == "search"]
    assert search, "the greedy start is reported before HiGHS runs"
    objectives = [p.objective for p in search]
    assert None not in objectives
    assert objectives == sorted(objectives)
    bounds = [p.best_bound for p in search]
    assert bounds == sorted(bounds, reverse=True)
    for p in search:
        assert validate(instance, p.plan, p.objective) == []
        assert p.best_bound >= p.objective and p.gap >= 0
    assert solution.objective >= objectives[-1]
    assert calls_in == {threading.get_ident()}, "on_progress runs in the thread that called solve"
    if solution.status == FEASIBLE:
        assert solution.stats.stop_reason == "time_limit"


def test_stopping_after_the_first_improvement_returns_the_best_plan_so_far_honestly():
    instance = load(medium_scenario())
    greedy = plan_value(instance, greedy_plan(instance))
    asked: list[Progress] = []

    def stop_once_improved(progress: Progress) -> bool:
        if progress.objective is not None and progress.objective > greedy:
            asked.append(progress)
            return False
        return True

    solution = solve(instance, _config(instance), on_progress=stop_once_improved)
    assert len(asked) == 1, "after the caller says stop, it is not asked again"
    assert solution.stats.stop_reason == "caller"
    assert validate(instance, solution.plan, solution.objective) == []
    assert solution.objective >= asked[0].objective
    assert solution.best_bound >= solution.objective
    if solution.status == OPTIMAL:
        assert solution.best_bound == solution.objective
    else:
        assert solution.status == FEASIBLE and solution.gap > 0
    assert result_document(instance, solution).solver.stop_reason == "caller"


def test_stopping_at_the_greedy_start_returns_it_without_running_highs():
    instance = load(medium_scenario())
    solution = solve(instance, _config(instance), on_progress=lambda progress: False)
    assert solution.stats.stop_reason == "caller"
    assert solution.plan == greedy_plan(instance)
    assert solution.status == FEASIBLE and solution.gap > 0
    assert validate(instance, solution.plan, solution.objective) == []


def test_a_solve_left_to_finish_says_it_completed():
    instance = load(scenario([idea("A", value=5, cost=60), idea("B", value=4, cost=50)]))
    solution = solve(instance, _config(instance), on_progress=lambda progress: True)
    assert solution.status == OPTIMAL and solution.stats.stop_reason == "completed"
    assert result_document(instance, solution).solver.stop_reason == "completed"


def test_solves_in_several_threads_at_once_do_not_refuse_each_other():
    # highspy 1.16 keeps startSolve's locks on the class: two solves at once used to fail.
    instance = load(medium_scenario(seed=2))
    results: list = []

    def one() -> None:
        results.append(solve(instance, _config(instance, limit=1)))

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    for solution in results:
        assert solution.plan is not None and validate(instance, solution.plan, solution.objective) == []
