"""Optimisation runs for real: committed requests, PgQueuer jobs, worker tasks and processes.

These tests use a database of their own, because workers must see committed rows.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import msgspec
import pytest
from roadmap_fixtures import EDITOR, LEADER, scenario_body, scored_portfolio

from services.kit import migrate
from services.kit.db import PoolSource
from services.roadmap.optimiser import decode_scenario, validate
from services.roadmap.optimiser.instance import Plan
from services.single_process import create_single_process_app

pytestmark = pytest.mark.integration

ROADMAP = str(Path(sys.executable).with_name("roadmap"))


@pytest.fixture(scope="module")
def runs_database_url(make_database) -> str:
    url = make_database("runs")
    migrate.upgrade(url)
    return url


@pytest.fixture
def run_settings(settings, runs_database_url):
    return msgspec.structs.replace(
        settings, database_url=runs_database_url, job_retry_after_seconds=2.0, job_stop_grace_seconds=1.0
    )


async def poll_run(http: httpx.AsyncClient, run_id: str, headers, *, until: set[str], within: float) -> dict:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        run = (await http.get(f"/roadmap/runs/{run_id}", headers=headers)).json()
        if run["status"] in until:
            return run
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {run_id} still {run['status']} after {within}s: {run}")


async def test_a_run_is_solved_by_the_worker_and_its_plan_passes_the_validator(run_settings, token_for):
    source = await PoolSource.open(run_settings)
    app = create_single_process_app(run_settings, source=source)
    try:
        async with app.lifespan():  # runs the in-process job worker, as `roadmap serve` does
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                scored = await scored_portfolio(http, token_for)
                scenario = (
                    await http.post("/roadmap/scenarios", json=scenario_body(scored), headers=token_for(EDITOR))
                ).json()
                started = await http.post(
                    f"/roadmap/scenarios/{scenario['id']}/runs", json={}, headers=token_for(EDITOR)
                )
                assert started.status_code == 202, started.text
                run = await poll_run(
                    http, started.json()["id"], token_for("viewer"), until={"succeeded", "failed"}, within=60
                )
                assert run["status"] == "succeeded", run
                assert run["summary"]["status"] == "optimal" and run["solverName"] and run["solverVersion"]
                assert run["attempts"] == 1 and run["progress"]["stage"] == "finished"
                result = (await http.get(f"/roadmap/runs/{run['id']}/result", headers=token_for("viewer"))).json()
                document = (
                    await http.get(f"/roadmap/scenarios/{scenario['id']}/document", headers=token_for("viewer"))
                ).content

                # What if Perfection had nothing? Run again and compare the two runs.
                poorer = [{**p, "budget": 0} if p["key"] == "perfection" else p for p in scenario["phases"]]
                await http.patch(
                    f"/roadmap/scenarios/{scenario['id']}", json={"phases": poorer}, headers=token_for(EDITOR)
                )
                again = await http.post(f"/roadmap/scenarios/{scenario['id']}/runs", json={}, headers=token_for(EDITOR))
                second = await poll_run(
                    http, again.json()["id"], token_for("viewer"), until={"succeeded", "failed"}, within=60
                )
                compared = await http.get(
                    "/roadmap/runs/compare",
                    params=[("ids", run["id"]), ("ids", second["id"])],
                    headers=token_for("viewer"),
                )
                assert compared.status_code == 200, compared.text
                base_column, what_if = compared.json()["runs"]

                sweep = await http.post(
                    f"/roadmap/scenarios/{scenario['id']}/frontier",
                    json={"fromFactor": 0.5, "toFactor": 2.0, "points": 4, "timeLimitSecondsPerPoint": 5},
                    headers=token_for(EDITOR),
                )
                assert sweep.status_code == 202, sweep.text
                swept = await poll_run(
                    http, sweep.json()["id"], token_for("viewer"), until={"succeeded", "failed"}, within=90
                )
                frontier = (await http.get(f"/roadmap/runs/{swept['id']}/result", headers=token_for("viewer"))).json()
                chart = await http.get(f"/roadmap/runs/{swept['id']}/frontier.svg", headers=token_for("leader"))
    finally:
        await source.close()
    instance = decode_scenario(document)
    ids = [idea.id for idea in instance.ideas]
    keys = [phase.key for phase in instance.phases]
    plan = Plan(tuple(sorted((ids.index(a["idea"]), keys.index(a["phase"])) for a in result["assignments"])))
    assert validate(instance, plan) == []
    assert result["objective"] == pytest.approx(run["summary"]["objective"])
    in_perfection = {a["idea"] for a in result["assignments"] if a["phase"] == "perfection"}
    assert in_perfection and what_if["spend"]["perfection"] == 0
    moved_or_removed = {item["idea"] for item in what_if["removed"]} | {move["idea"] for move in what_if["moved"]}
    assert in_perfection <= moved_or_removed
    assert what_if["objective"] <= base_column["objective"]

    points = frontier["points"]
    assert swept["status"] == "succeeded" and [p["factor"] for p in points] == [0.5, 1.0, 1.5, 2.0]
    assert all(p["status"] == "optimal" for p in points)
    objectives = [p["objective"] for p in points]
    assert objectives == sorted(objectives)  # more budget never buys less value
    # Each step names the ideas it adds and gives up; a step that buys more value changes the plan.
    assert points[0]["added"] == points[0]["removed"] == []
    for before, after in zip(points, points[1:]):
        assert set(after["added"]) | set(after["removed"]) <= set(ids)
        if after["objective"] > before["objective"] + 1e-9:
            assert after["added"] or after["removed"], after
    assert any(point["added"] for point in points)
    assert chart.headers["content-type"].startswith("image/svg+xml") and chart.text.startswith("<svg")


def hard_scenario(ideas: int = 600, seed: int = 5) -> dict:
    """A scenario HiGHS cannot finish in a few seconds: many ideas, ten tight team capacities."""
    rng = random.Random(seed)
    phases = ["discovery", "improve", "perfection", "personalization"]
    teams = [f"t{n}" for n in range(10)]
    return {
        "name": "hard",
        "phases": [{"key": key, "budget": 400_000} for key in phases],
        "teams": [{"key": team, "capacity": {key: 90 for key in phases}} for team in teams],
        "ideas": [
            {
                "id": f"I{n}",
                "value": rng.randint(10, 100),
                "cost": rng.randint(5, 60) * 1000,
                "effort": {team: rng.randint(1, 30) for team in rng.sample(teams, 3)},
            }
            for n in range(ideas)
        ],
        "objective": {"phaseDiscount": {"discovery": 1, "improve": 0.95, "perfection": 0.85, "personalization": 0.75}},
        "solver": {"timeLimitSeconds": 6, "relativeGap": 0},
    }


async def new_portfolio(http: httpx.AsyncClient, token_for) -> str:
    response = await http.post("/scoring/portfolios", json={"name": "Imported"}, headers=token_for(EDITOR))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen([ROADMAP, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)


async def test_a_run_whose_worker_is_killed_is_finished_once_by_another_worker(
    run_settings, token_for, tmp_path, runs_database_url
):
    env = {
        **os.environ,
        "ROADMAP_DATABASE_URL": runs_database_url,
        "ROADMAP_DATA_DIR": str(tmp_path),
        "ROADMAP_JOB_RETRY_AFTER_SECONDS": "2",
        "ROADMAP_JOB_STOP_GRACE_SECONDS": "1",
    }
    source = await PoolSource.open(run_settings)
    app = create_single_process_app(run_settings, source=source, run_jobs=False)
    first = start_worker(env, tmp_path / "first.log")
    second = None
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            imported = await http.post(
                "/roadmap/scenarios/import",
                json={"portfolioId": await new_portfolio(http, token_for), "document": hard_scenario()},
                headers=token_for(EDITOR),
            )
            assert imported.status_code == 201, imported.text
            started = await http.post(
                f"/roadmap/scenarios/{imported.json()['id']}/runs", json={}, headers=token_for(EDITOR)
            )
            run_id = started.json()["id"]
            await poll_run(http, run_id, token_for("viewer"), until={"running"}, within=60)
            second = start_worker(env, tmp_path / "second.log")
            await asyncio.sleep(1.0)
            first.send_signal(signal.SIGKILL)  # mid-solve: the first worker had the job
            first.wait(timeout=10)
            run = await poll_run(http, run_id, token_for("viewer"), until={"succeeded", "failed"}, within=90)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
        await source.close()
    assert run["status"] == "succeeded", (run, (tmp_path / "second.log").read_text()[-2000:])
    assert run["attempts"] == 2  # taken up again, and recorded once by the attempt that held it
    assert run["summary"]["status"] in ("optimal", "feasible")


async def test_a_running_run_shows_its_best_plan_so_far_and_cancelling_keeps_it(run_settings, token_for):
    source = await PoolSource.open(run_settings)
    app = create_single_process_app(run_settings, source=source)
    try:
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                document = {**hard_scenario(ideas=800, seed=9), "solver": {"timeLimitSeconds": 120, "relativeGap": 0}}
                imported = await http.post(
                    "/roadmap/scenarios/import",
                    json={"portfolioId": await new_portfolio(http, token_for), "document": document},
                    headers=token_for(EDITOR),
                )
                started = await http.post(
                    f"/roadmap/scenarios/{imported.json()['id']}/runs", json={}, headers=token_for(EDITOR)
                )
                run_id = started.json()["id"]
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    run = (await http.get(f"/roadmap/runs/{run_id}", headers=token_for("viewer"))).json()
                    if run["progress"].get("objective") is not None:
                        break
                    await asyncio.sleep(0.2)
                progress = run["progress"]
                assert run["status"] == "running" and progress["assignments"], run
                assert progress["bestBound"] >= progress["objective"] > 0
                cancel = await http.post(f"/roadmap/runs/{run_id}/cancel", headers=token_for(EDITOR))
                assert cancel.status_code == 200 and cancel.json()["cancelRequested"] is True
                run = await poll_run(http, run_id, token_for("viewer"), until={"cancelled", "succeeded"}, within=30)
                result = (await http.get(f"/roadmap/runs/{run_id}/result", headers=token_for("viewer"))).json()
    finally:
        await source.close()
    assert run["status"] == "cancelled"
    # Finished, the poll no longer carries the plan (the result does), only the figures.
    assert "assignments" not in run["progress"] and run["progress"]["stage"] == "finished"
    assert run["progress"]["objective"] is not None
    assert result["solver"]["stopReason"] == "caller"
    assert result["status"] in ("feasible", "optimal") and result["objective"] >= progress["objective"]
    instance = decode_scenario(msgspec.json.encode(document))
    ids = [idea.id for idea in instance.ideas]
    keys = [phase.key for phase in instance.phases]
    plan = Plan(tuple(sorted((ids.index(a["idea"]), keys.index(a["phase"])) for a in result["assignments"])))
    assert validate(instance, plan) == []


async def test_a_plan_is_explained_approved_and_replanned_against_itself(run_settings, token_for):
    source = await PoolSource.open(run_settings)
    app = create_single_process_app(run_settings, source=source)
    viewer, editor, leader = token_for("viewer"), token_for(EDITOR), token_for("leader", subject=LEADER)
    try:
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                scored = await scored_portfolio(http, token_for)
                scenario = (await http.post("/roadmap/scenarios", json=scenario_body(scored), headers=editor)).json()
                started = await http.post(f"/roadmap/scenarios/{scenario['id']}/runs", json={}, headers=editor)
                run = await poll_run(http, started.json()["id"], viewer, until={"succeeded", "failed"}, within=60)

                asked = await http.post(f"/roadmap/runs/{run['id']}/sensitivity", json={}, headers=editor)
                assert asked.status_code == 202, asked.text
                explained = await poll_run(http, asked.json()["id"], viewer, until={"succeeded", "failed"}, within=90)
                sensitivity = (await http.get(f"/roadmap/runs/{explained['id']}/result", headers=viewer)).json()

                others = await http.post(
                    f"/roadmap/runs/{run['id']}/alternatives",
                    json={"count": 2, "minDifference": 1, "maxLoss": 0.9},
                    headers=editor,
                )
                assert others.status_code == 202, others.text
                found = await poll_run(http, others.json()["id"], viewer, until={"succeeded", "failed"}, within=90)
                alternatives = (await http.get(f"/roadmap/runs/{found['id']}/result", headers=viewer)).json()

                plan = (await http.post(f"/roadmap/runs/{run['id']}/plans", json={"name": "P"}, headers=editor)).json()
                not_yet = await http.post(
                    f"/roadmap/plans/{plan['id']}/replan", json={"name": "Again", "movePenalty": 1}, headers=editor
                )
                await http.post(f"/roadmap/plans/{plan['id']}/submit", headers=editor)
                for phase in plan["phases"]:
                    decision = {"decision": "approve", "comment": "ok"}
                    await http.post(
                        f"/roadmap/plans/{plan['id']}/phases/{phase['key']}/decision", json=decision, headers=leader
                    )
                replanned = await http.post(
                    f"/roadmap/plans/{plan['id']}/replan", json={"name": "2028", "movePenalty": 1000}, headers=editor
                )
                assert replanned.status_code == 201, replanned.text
                again = await http.post(f"/roadmap/scenarios/{replanned.json()['id']}/runs", json={}, headers=editor)
                rerun = await poll_run(http, again.json()["id"], viewer, until={"succeeded", "failed"}, within=60)
                rerun_result = (await http.get(f"/roadmap/runs/{rerun['id']}/result", headers=viewer)).json()
                base_result = (await http.get(f"/roadmap/runs/{run['id']}/result", headers=viewer)).json()
    finally:
        await source.close()
    assert explained["status"] == "succeeded" and explained["baseRunId"] == run["id"]
    assert [item["phase"] for item in sensitivity["phases"]] == [p["key"] for p in base_result["phases"]]
    assert found["status"] == "succeeded" and isinstance(alternatives["alternatives"], list)
    for alternative in alternatives["alternatives"]:
        assert alternative["objective"] >= (1 - 0.9) * base_result["objective"] - 1e-6
    assert not_yet.status_code == 409  # only an approved plan is re-planned
    assert replanned.json()["source"]["replanOf"] == plan["id"]
    # Nothing changed since the approval, and moving costs a lot: the plan stays as approved.
    assert rerun["status"] == "succeeded" and rerun_result["baseline"]["moved"] == []
    assert rerun_result["baseline"]["dropped"] == [] and rerun_result["baselinePenalty"] == 0
    assert sorted(map(tuple, (a.values() for a in rerun_result["assignments"]))) == sorted(
        map(tuple, (a.values() for a in base_result["assignments"]))
    )


async def test_a_run_has_its_plan_first_and_the_what_ifs_are_added_afterwards(run_settings, token_for):
    source = await PoolSource.open(run_settings)
    app = create_single_process_app(run_settings, source=source)
    try:
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                scored = await scored_portfolio(http, token_for)
                tight = [
                    {**p, "budget": 20_000 if p["key"] == "improve" else 0} for p in scenario_body(scored)["phases"]
                ]
                body = scenario_body(scored, phases=tight)
                scenario = (await http.post("/roadmap/scenarios", json=body, headers=token_for(EDITOR))).json()
                started = await http.post(
                    f"/roadmap/scenarios/{scenario['id']}/runs", json={}, headers=token_for(EDITOR)
                )
                run = await poll_run(
                    http, started.json()["id"], token_for("viewer"), until={"succeeded", "failed"}, within=60
                )
                assert run["status"] == "succeeded", run
                deadline = time.monotonic() + 30
                while True:
                    result = (await http.get(f"/roadmap/runs/{run['id']}/result", headers=token_for("viewer"))).json()
                    bound = [lo for lo in result["leftOut"] if lo["reason"] in ("budget", "capacity")]
                    assert bound, result["leftOut"]
                    if result["solver"]["whatIfResolved"] == len(bound) or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.2)
                assert result["solver"]["whatIfResolved"] == len(bound) and result["solver"]["whatIfSkipped"] == 0
                assert all(lo["detail"]["whatIf"]["feasible"] is not None for lo in bound)
                assert result["assignments"] and result["status"] == run["summary"]["status"]
    finally:
        await source.close()
