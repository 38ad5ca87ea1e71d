"""The services as a deployment runs them: separate processes, two workers, one PostgreSQL.

Each service is `roadmap serve --service NAME` (a service on its own runs no job worker);
they reach each other over HTTP, and every job goes to the two `roadmap worker` processes.
Fifty runs and five Jira pushes (to the stand-in Jira) are asked for at once, one worker is
killed while it is in the middle of a job, and every run and every push still finishes, once:
the queue's log, the runs, the workers' logs, the link table and Jira itself all say so.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from live_server import ROADMAP, free_port, wait_ready
from roadmap_fixtures import EDITOR
from test_jira_push import approved_plan, connect, issues_by_label, wait_for

from services.integrations.payloads import idea_label, phase_label
from services.kit import migrate
from services.kit.db import connect as connect_database
from services.kit.jobs import MIN_CONCURRENCY

pytestmark = pytest.mark.integration

SERVICES = ("scoring", "roadmap", "integrations")
WORKERS = ("worker-1", "worker-2")
RUNS, PUSHES = 50, 5
FINISHED = {"succeeded", "failed", "cancelled"}
PER_WORKER = MIN_CONCURRENCY  # jobs a worker runs at once
RUNNING_JOBS = """
    SELECT (SELECT count(*) FROM roadmap.runs WHERE status = 'running')
         + (SELECT count(*) FROM integrations.pushes WHERE status = 'running')
"""


class ByPrefix(httpx.AsyncBaseTransport):
    """Sends `/scoring/...` to the scoring service's port, and so on, as an ingress would."""

    def __init__(self, ports: dict[str, int]) -> None:
        self.ports = ports
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        service = request.url.path.split("/")[1]
        request.url = request.url.copy_with(host="127.0.0.1", port=self.ports[service])
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def log_lines(path: Path) -> list[dict]:
    lines = []
    for line in path.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by the kill, or not ours
    return lines


@pytest.fixture
def apart_database_url(make_database) -> str:
    """A migrated database of its own (a sync fixture: the test's event loop is already running)."""
    url = make_database("apart")
    migrate.upgrade(url)
    return url


async def test_separate_services_and_two_workers_finish_every_run_and_push_once_though_one_worker_dies(
    apart_database_url, auth_settings, token_for, jira, tmp_path
):
    url = apart_database_url
    ports = {name: free_port() for name in SERVICES}
    bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {**os.environ, "ROADMAP_DATABASE_URL": url, "ROADMAP_JWT_SECRET": auth_settings.signing_key,
           "ROADMAP_DATA_DIR": str(tmp_path), "ROADMAP_SCORING_URL": bases["scoring"],
           "ROADMAP_ROADMAP_URL": bases["roadmap"], "ROADMAP_INTEGRATIONS_URL": bases["integrations"],
           "ROADMAP_JOB_RETRY_AFTER_SECONDS": "2",
           "ROADMAP_LOG_LEVEL": "WARNING", "ROADMAP_SECRET_PUSH_TEST_JIRA_TOKEN": jira.auth[1], "ROADMAP_OUTBOUND_ALLOWED_HOSTS": jira.host,
           # A push that finds its connection busy (the killed worker's session not yet gone) waits briefly.
           "ROADMAP_JIRA_OUTAGE_FIRST_WAIT_SECONDS": "2"}  # fmt: skip
    processes: dict[str, subprocess.Popen] = {}
    editor, viewer = token_for(EDITOR), token_for("viewer")

    def start(name: str, *args: str, log_level: str = "WARNING") -> None:
        with (tmp_path / f"{name}.log").open("w") as log:  # the child keeps its own descriptor
            processes[name] = subprocess.Popen(
                [ROADMAP, *args], env={**env, "ROADMAP_LOG_LEVEL": log_level}, stdout=log, stderr=subprocess.STDOUT
            )

    def worker_logs() -> str:
        """The end of each worker's log, leaving out its line per HTTP request to Jira."""
        tails = []
        for name in WORKERS:
            lines = [
                line for line in (tmp_path / f"{name}.log").read_text().splitlines() if '"logger": "httpx"' not in line
            ]
            tails.append(f"--- {name}:\n" + "\n".join(line[:600] for line in lines[-15:]))
        return "\n".join(tails)

    database = await connect_database(url)
    try:
        for name, port in ports.items():
            start(name, "serve", "--service", name, "--port", str(port))
        for name in WORKERS:
            # At INFO a worker logs each run it finishes.
            start(name, "worker", "--concurrency", str(PER_WORKER), log_level="INFO")
        for base in bases.values():
            wait_ready(base)
        async with httpx.AsyncClient(transport=ByPrefix(ports), base_url="http://apart", timeout=60) as http:
            # Five portfolios, each with an approved plan and a connection to PROJ, made first.
            prepared = await asyncio.gather(*(approved_plan(http, token_for) for _ in range(PUSHES)))
            plans = [
                (scored, plan, await connect(http, jira, scored["portfolioId"], editor)) for scored, plan in prepared
            ]

            scenario_id = await many_runs_scenario(http, editor)
            started = await asyncio.gather(
                *(http.post(f"/roadmap/scenarios/{scenario_id}/runs", json={}, headers=editor) for _ in range(RUNS)),
                *(http.post(f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor)
                  for _, plan, cid in plans),
            )  # fmt: skip
            assert all(response.status_code == 202 for response in started), [
                r.text for r in started if r.status_code != 202
            ]
            runs = [response.json()["id"] for response in started[:RUNS]]
            push_urls = [response.headers["location"] for response in started[RUNS:]]

            await kill_while_it_holds_a_job(processes["worker-1"], database, scenario_id, worker_logs)

            states = await all_runs_finished(http, scenario_id, viewer, worker_logs)
            pushes = [await wait_for(http, push, viewer, until=FINISHED, within=90) for push in push_urls]

            # Scoring asks integrations, over HTTP, whether a pushed idea is delivered: not yet.
            pushed_scored, pushed_plan, _ = plans[0]
            pushed_ref = pushed_plan["assignments"][0]["idea"]
            early_actuals = await http.put(
                f"{pushed_scored['base']}/ideas/{pushed_ref}/actuals", json={"cost": 1}, headers=editor
            )

            # Each service, on its own, hides another team's portfolio from a non-member.
            outsider = token_for(EDITOR, "leader", "delivery", subject="outsider@example.com")
            _, some_plan, some_connection = plans[0]
            hidden = [f"/roadmap/scenarios/{scenario_id}", f"/roadmap/runs/{runs[0]}", f"/roadmap/plans/{some_plan['id']}",
                      f"/integrations/connections/{some_connection}", push_urls[0],
                      f"/integrations/plans/{some_plan['id']}/delivery"]  # fmt: skip
            seen_by_outsider = {url: (await http.get(url, headers=outsider)).status_code for url in hidden}
            listed_by_outsider = [
                (await http.get(url, headers=outsider)).json()
                for url in ("/scoring/portfolios", "/roadmap/scenarios", "/roadmap/plans", "/integrations/connections")
            ]
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # in case a failure left worker-1 frozen
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        try:
            queued, picks, outcomes, left_in_queue, links = await queue_and_links(database)
        finally:
            await database.close()

    assert set(seen_by_outsider.values()) == {404}, seen_by_outsider
    assert (early_actuals.status_code, early_actuals.json().get("statusCategory")) == (409, "new"), early_actuals.text
    assert [page["items"] for page in listed_by_outsider[:3]] == [[], [], []] and listed_by_outsider[3] == []

    by_id = {state["id"]: state for state in states}
    assert sorted(by_id) == sorted(runs)
    failed = [(s["status"], s["error"]) for s in states if s["status"] != "succeeded"]
    assert not failed, (failed, worker_logs())
    assert {s["summary"]["status"] for s in states} == {"optimal"}
    assert len({s["summary"]["objective"] for s in states}) == 1  # the same scenario, the same proven optimum
    assert [p["status"] for p in pushes] == ["succeeded"] * PUSHES and all(p["errors"] == [] for p in pushes), (
        pushes,
        worker_logs(),
    )

    # The killed worker was in the middle of a job: the survivor took it again...
    assert any(count > 1 for count in picks.values()), (picks, worker_logs())
    retaken = [s["id"] for s in states if s["attempts"] > 1] + [p["id"] for p in pushes if p["attempts"] > 1]
    assert retaken, worker_logs()
    # ...and still every job ended exactly once, none with an exception, none left behind.
    # Five plans' runs, fifty runs, five pushes, and a job for each time a push waited its turn.
    assert len(queued) >= PUSHES * 2 + RUNS
    assert outcomes == {job: ["successful"] for job in queued}, (outcomes, worker_logs())
    assert left_in_queue == 0

    # The workers recorded each run's outcome, and none twice. A run the killed worker finished
    # may lack its line: the worker can die between recording the outcome and logging that it did.
    recorded = Counter(
        line["run_id"]
        for name in WORKERS
        for line in log_lines(tmp_path / f"{name}.log")
        if line.get("message") == "run finished" and line.get("recorded")
    )
    assert max(recorded[run] for run in runs) == 1, worker_logs()
    assert len([run for run in runs if not recorded[run]]) <= PER_WORKER, worker_logs()

    # In Jira: one issue per idea, one epic per phase, per plan; nothing else and nothing twice.
    labels = issues_by_label(jira)
    assert all(len(keys) == 1 for keys in labels.values()), {k: v for k, v in labels.items() if len(v) > 1}
    expected = set()
    for scored, plan, _ in plans:
        expected |= {idea_label(scored["portfolioId"], a["idea"]) for a in plan["assignments"]}
        expected |= {phase_label(scored["portfolioId"], a["phase"]) for a in plan["assignments"]}
    assert set(labels) == expected
    assert len(links) == len(expected) and len({key for _, _, key in links}) == len(expected)
    # Each plan's A2 requires A1: one "Blocks" link per plan that has both.
    both = [plan for _, plan, _ in plans if {"A1", "A2"} <= {a["idea"] for a in plan["assignments"]}]
    assert len(jira.blocks()) == len(both)


async def many_runs_scenario(http: httpx.AsyncClient, editor: dict[str, str]) -> str:
    """A scenario of 20 ideas whose runs take a moment (re-solves explain the four left out)."""
    portfolio = (await http.post("/scoring/portfolios", json={"name": "Apart"}, headers=editor)).json()
    ideas = [
        {"ref": f"I-{n}", "title": f"Idea {n}", "phases": ["improve", "perfection"],
         "estimates": {"reach": 100 + n, "customerImpact": 5, "confidence": 0.8, "effort": {"web": 2}, "cost": 1000 + n}}
        for n in range(20)
    ]  # fmt: skip
    base = f"/scoring/portfolios/{portfolio['id']}"
    assert (await http.post(f"{base}/ideas/bulk", json={"ideas": ideas}, headers=editor)).status_code == 201
    model = (
        await http.post(f"{base}/models", json={"name": "RICE", "definition": {"kind": "rice"}}, headers=editor)
    ).json()
    scenario = await http.post(
        "/roadmap/scenarios",
        json={"name": "Apart", "portfolioId": portfolio["id"], "modelId": model["id"],
              "phases": [{"key": "improve", "budget": 10_000}, {"key": "perfection", "budget": 8_000}],
              "solver": {"timeLimitSeconds": 30}},
        headers=editor,
    )  # fmt: skip
    assert scenario.status_code == 201, scenario.text
    return scenario.json()["id"]


async def kill_while_it_holds_a_job(worker, database, scenario_id: str, worker_logs, within: float = 90) -> None:
    """SIGKILL `worker` once a fifth of the runs are done, at a moment it is in the middle of a job.

    It is frozen (SIGSTOP) first. A worker runs at most PER_WORKER jobs at once, so while it is
    frozen, more jobs than that running at one instant means at least one of them is its own.
    If it held none, it is thawed and tried again a moment later, well before the other worker
    could take its jobs for a dead worker's.
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        done = await database.fetchval(
            "SELECT count(*) FROM roadmap.runs WHERE scenario_id = $1 AND status = 'succeeded'", UUID(scenario_id)
        )
        if done < RUNS // 5:
            await asyncio.sleep(0.2)
            continue
        worker.send_signal(signal.SIGSTOP)
        await asyncio.sleep(0.1)  # a statement it sent just before is answered
        frozen_until = time.monotonic() + 0.8
        while time.monotonic() < frozen_until:
            if await database.fetchval(RUNNING_JOBS) > PER_WORKER:
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
                return
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGCONT)
        await asyncio.sleep(0.3)
    raise AssertionError("never caught the worker in the middle of a job\n" + worker_logs())


async def all_runs_finished(http, scenario_id: str, viewer, worker_logs, within: float = 120) -> list[dict]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        page = (
            await http.get(f"/roadmap/scenarios/{scenario_id}/runs", params={"pageSize": 100}, headers=viewer)
        ).json()
        if page["total"] == RUNS and all(run["status"] in FINISHED for run in page["items"]):
            return page["items"]
        await asyncio.sleep(1.0)
    statuses = Counter((run["status"], run["attempts"]) for run in page["items"])
    raise AssertionError(f"runs still unfinished, by (status, attempts): {dict(statuses)}\n" + worker_logs())


async def queue_and_links(database):
    """What the queue's log says of each job, what is left in the queue, and the Jira link table."""
    log = await database.fetch("SELECT job_id, status FROM queue.pgqueuer_log ORDER BY id")
    queued = {row["job_id"] for row in log if row["status"] == "queued"}
    picks = Counter(row["job_id"] for row in log if row["status"] == "picked")
    outcomes: dict[int, list[str]] = {}
    for row in log:
        if row["status"] not in ("queued", "picked"):
            outcomes.setdefault(row["job_id"], []).append(row["status"])
    left = await database.fetchval("SELECT count(*) FROM queue.pgqueuer")
    links = await database.fetch("SELECT kind, item, issue_key FROM integrations.issue_links")
    return queued, picks, outcomes, left, [tuple(row) for row in links]
