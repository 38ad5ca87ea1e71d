"""PostgreSQL restarts under load: 503s while it is down, recovery on its own, nothing lost.

A PostgreSQL of this test's own (the pgserver binaries, in a temporary folder, on a free
loopback port) serves `roadmap serve` in a subprocess: the three services and their in-process
job worker. Optimisation runs are mid-solve and client traffic (bulk idea writes, reads,
small runs) is flowing when the server is stopped (`pg_ctl stop -m fast`, what a restart or
failover does to open connections). It stays down until a run has finished solving and waits
to store its outcome, then starts again. The app itself is never restarted. The shared test
server is not touched.

A push to the stand-in Jira (slowed down, so the push is under way) meets the same restart in a
test of its own: it is carried on once the database is back, and makes each issue once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from live_server import ROADMAP, free_port
from roadmap_fixtures import EDITOR
from test_jira_outage import assert_one_issue_per_idea_and_one_epic_per_phase, start_push
from test_jira_push import approved_plan, connect

from services.integrations.jobs import PUSH_JOB
from services.kit import migrate
from services.kit.auth import mint_token
from services.kit.db import PoolSource
from services.kit.settings import AuthSettings
from services.single_process import create_single_process_app

pytestmark = pytest.mark.integration

SECRET = "restart-" + "s" * 40
FINAL = {"succeeded", "failed", "cancelled"}
# Long enough that a hard run is still solving when the database goes away.
HARD_TIME_LIMIT = 2.0
# A request may fail while the database is down, but must not hang: a 503 comes well before this.
REQUEST_TIMEOUT = 30.0
# How much later the stand-in Jira answers each call, so a push is under way when the database stops.
JIRA_DELAY = 0.5


class Postgres:
    """A PostgreSQL of its own in `folder`, listening on 127.0.0.1:`port` only."""

    def __init__(self, folder: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pgserver
            from pgserver.utils import ensure_user_exists

        self.bin = Path(pgserver.__file__).parent / "pginstall" / "bin"
        self.data = folder / "pgdata"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/roadmap"
        self.pid: int | None = None
        # PostgreSQL refuses to run as root: there it runs as pgserver's own system user.
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "pgserver"
            account = ensure_user_exists(self.user)
            os.chown(folder, account.pw_uid, account.pw_gid)

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin / tool), "-D", str(self.data), *args],
            capture_output=True, text=True, timeout=90, user=self.user, cwd=self.data.parent,
        )  # fmt: skip
        assert done.returncode == 0, f"{tool} {' '.join(args)}: {done.stdout}{done.stderr}"

    def init(self) -> None:
        self._run("initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres")

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories=''"
        self._run("pg_ctl", "-w", "-t", "60", "-o", options, "-l", str(self.data / "server.log"), "start")
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        # Fast: open sessions are terminated and in-flight transactions rolled back, as in a restart.
        self._run("pg_ctl", "-w", "-t", "60", "-m", "fast", "stop")
        self.pid = None

    def kill(self) -> None:
        """The last resort of a teardown: the server must not outlive the test."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGQUIT)
            self.pid = None


@pytest.fixture
def postgres():
    # Not under pytest's tmp_path: each pytest session makes /tmp/pytest-of-<user> private
    # again, which would lock the server's own user out of a folder there mid-test.
    folder = Path(tempfile.mkdtemp(prefix="roadmap-restart-"))
    server = Postgres(folder)
    try:
        server.init()
        server.start()
        yield server
    finally:
        try:
            if server.pid is not None:
                server.stop()
        finally:
            server.kill()
            shutil.rmtree(folder, ignore_errors=True)


def hard_ideas(count: int, seed: int = 7) -> list[dict]:
    """A strongly correlated multi-knapsack: value tracks cost, so proving the optimum takes long."""
    rng = random.Random(seed)
    phases = ["improve", "perfection", "personalization"]
    ideas = []
    for n in range(count):
        cost = rng.randint(1000, 9000)
        effort = {team: rng.randint(1, 9) for team in ("web", "app", "ops")}
        value = cost / 100 + rng.randint(0, 10)
        # RICE = reach * impact * confidence / total effort, so this reach gives the value above.
        estimates = {
            "reach": value * sum(effort.values()),
            "customerImpact": 1,
            "confidence": 1,
            "effort": effort,
            "cost": cost,
        }
        ideas.append({"ref": f"H-{n}", "title": f"Hard {n}", "phases": rng.sample(phases, 2), "estimates": estimates})
    return ideas


async def portfolio_with(http: httpx.AsyncClient, name: str, ideas: list[dict]) -> tuple[str, str]:
    portfolio = (await http.post("/scoring/portfolios", json={"name": name})).json()
    base = f"/scoring/portfolios/{portfolio['id']}"
    if ideas:
        response = await http.post(f"{base}/ideas/bulk", json={"ideas": ideas})
        assert response.status_code == 201, response.text
    model = await http.post(f"{base}/models", json={"name": "RICE", "definition": {"kind": "rice"}})
    assert model.status_code == 201, model.text
    return portfolio["id"], model.json()["id"]


async def scenario(http: httpx.AsyncClient, body: dict) -> str:
    response = await http.post("/roadmap/scenarios", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def start_run(http: httpx.AsyncClient, scenario_id: str) -> str:
    response = await http.post(f"/roadmap/scenarios/{scenario_id}/runs", json={})
    assert response.status_code == 202, response.text
    return response.json()["id"]


async def poll(check, *, within: float, every: float = 0.25, what: str):  # type: ignore[no-untyped-def]
    """Call `check()` until it returns something truthy; generous deadlines, no speed asserted."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        try:
            last = await check()
        except httpx.TransportError as exc:
            last = exc
        else:
            if last:
                return last
        await asyncio.sleep(every)
    raise AssertionError(f"{what}: still not so after {within:.0f} s (last: {last!r})")


async def on_database(postgres: Postgres, query: str, *args):  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(postgres.url, timeout=10)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


def bearer(*roles: str, subject: str = "pm") -> dict[str, str]:
    """Authorization headers the served app accepts, for a caller with these roles."""
    return {"Authorization": "Bearer " + mint_token(AuthSettings(signing_key=SECRET), subject=subject, roles=roles)}


@contextlib.asynccontextmanager
async def serving(postgres: Postgres, log_path: Path, data_dir: Path, env: dict[str, str] | None = None
                  ) -> AsyncIterator[httpx.AsyncClient]:  # fmt: skip
    """`roadmap serve` on a migrated database of `postgres`, ready, and a programme manager's client."""
    maintenance = await asyncpg.connect(postgres.url.rsplit("/", 1)[0] + "/postgres", timeout=10)
    try:
        await maintenance.execute("CREATE DATABASE roadmap")
    finally:
        await maintenance.close()
    await asyncio.to_thread(migrate.upgrade, postgres.url)

    port = free_port()
    env = {**os.environ, "ROADMAP_DATABASE_URL": postgres.url, "ROADMAP_JWT_SECRET": SECRET,
           "ROADMAP_DATA_DIR": str(data_dir), "ROADMAP_JOB_RETRY_AFTER_SECONDS": "2",
           "ROADMAP_JOB_STOP_GRACE_SECONDS": "2", "ROADMAP_LOG_LEVEL": "INFO", **(env or {})}  # fmt: skip
    with log_path.open("w") as log:  # the child keeps its own descriptor
        serve = subprocess.Popen([ROADMAP, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=bearer("programme_manager"), timeout=REQUEST_TIMEOUT
        ) as http:
            await poll(lambda: ready_is(http, 200), within=60, what="the app becomes ready")
            yield http
    finally:
        serve.terminate()
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(timeout=10)


async def ready_is(http: httpx.AsyncClient, status: int) -> bool:
    return (await http.get("/health/ready")).status_code == status


def job_waiting_for_database(log_path: Path) -> bool:
    """Whether the app's log says a job finished its work and waits for the database to store it."""
    return "database unavailable; trying again" in log_path.read_text()


class Traffic:
    """A client writing and reading all the time; every answer is kept with what it asked for."""

    def __init__(self, http: httpx.AsyncClient, portfolio_id: str, easy_scenario: str) -> None:
        self.http = http
        self.base = f"/scoring/portfolios/{portfolio_id}"
        self.easy_scenario = easy_scenario
        self.writes: list[tuple[str, int]] = []  # (ref prefix of a bulk write, status)
        self.runs: list[tuple[str | None, int]] = []  # (run id when accepted, status)
        self.statuses: list[tuple[str, int]] = []  # (what, status) of every request
        self.stop = asyncio.Event()

    async def flow(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            prefix = f"W{n}-"
            ideas = [
                {"ref": f"{prefix}{k}", "title": f"Written {n}.{k}",
                 "estimates": {"reach": 10 + k, "customerImpact": 1, "confidence": 1, "effort": {"web": 1}, "cost": 100}}
                for k in range(5)
            ]  # fmt: skip
            write = await self.http.post(f"{self.base}/ideas/bulk", json={"ideas": ideas})
            self.writes.append((prefix, write.status_code))
            self.statuses.append(("bulk write", write.status_code))
            read = await self.http.get(f"{self.base}/ideas", params={"pageSize": 5})
            self.statuses.append(("read", read.status_code))
            if n % 3 == 0:
                run = await self.http.post(f"/roadmap/scenarios/{self.easy_scenario}/runs", json={})
                self.runs.append((run.json()["id"] if run.status_code == 202 else None, run.status_code))
                self.statuses.append(("start run", run.status_code))
            for response in (write, read, *([run] if n % 3 == 0 else [])):
                assert response.status_code in (200, 201, 202, 503), (response.status_code, response.text)
                if response.status_code == 503:
                    assert response.headers["content-type"].startswith("application/problem+json"), response.text
            await asyncio.sleep(0.05)


async def test_a_database_restart_answers_503_then_recovers_and_loses_nothing(postgres, tmp_path):
    log_path = tmp_path / "serve.log"
    async with serving(postgres, log_path, tmp_path / "app") as http:
        ideas = hard_ideas(30)
        hard_portfolio, hard_model = await portfolio_with(http, "Hard", ideas)
        hard_budget = sum(idea["estimates"]["cost"] for idea in ideas) * 0.17
        hard = await scenario(http, {
            "name": "Hard", "portfolioId": hard_portfolio, "modelId": hard_model,
            "phases": [{"key": key, "budget": hard_budget + k}
                       for k, key in enumerate(("improve", "perfection", "personalization"))],
            "teams": [{"key": team, "capacity": {key: 25 for key in ("improve", "perfection", "personalization")}}
                      for team in ("web", "app", "ops")],
            "solver": {"timeLimitSeconds": HARD_TIME_LIMIT},
        })  # fmt: skip
        easy_ideas = [
            {"ref": f"E-{n}", "title": f"Easy {n}", "phases": ["improve"],
             "estimates": {"reach": 100 + n, "customerImpact": 2, "confidence": 1, "effort": {"web": 1}, "cost": 1000}}
            for n in range(4)
        ]  # fmt: skip
        traffic_portfolio, easy_model = await portfolio_with(http, "Traffic", easy_ideas)
        easy = await scenario(http, {
            "name": "Easy", "portfolioId": traffic_portfolio, "modelId": easy_model,
            "phases": [{"key": "improve", "budget": 2500}], "solver": {"timeLimitSeconds": 5},
        })  # fmt: skip

        hard_runs = [await start_run(http, hard) for _ in range(3)]

        async def solving():  # type: ignore[no-untyped-def]
            states = [(await http.get(f"/roadmap/runs/{run}")).json() for run in hard_runs]
            return any(
                s["status"] == "running" and s["progress"].get("stage") not in (None, "starting") for s in states
            )

        await poll(solving, within=60, what="a hard run is solving")

        traffic = Traffic(http, traffic_portfolio, easy)
        flowing = asyncio.create_task(traffic.flow())
        try:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(postgres.stop)

            # Down: not ready, and a request needing the database gets a 503 problem.
            await poll(lambda: ready_is(http, 503), within=30, what="/health/ready says 503 while the database is down")
            down = await http.get(f"/scoring/portfolios/{traffic_portfolio}/ideas")
            assert down.status_code == 503, down.text
            assert down.headers["content-type"].startswith("application/problem+json")
            assert down.json()["type"].endswith("/service-unavailable")
            # Stay down until a run has finished solving and waits to record its outcome (or
            # long enough that it would have: the checks below then say what went wrong).
            with contextlib.suppress(AssertionError):
                await poll(
                    lambda: asyncio.to_thread(job_waiting_for_database, log_path),
                    within=45,
                    what="a run finished solving while the database was down",
                )
            assert not flowing.done() or flowing.exception() is None

            await asyncio.to_thread(postgres.start)

            # Up again, with no restart of the app: ready by itself, and requests succeed.
            await poll(lambda: ready_is(http, 200), within=45, what="/health/ready returns to 200 on its own")
            since = len(traffic.statuses)

            async def succeeding():  # type: ignore[no-untyped-def]
                return sum(status < 300 for _, status in traffic.statuses[since:]) >= 5

            await poll(succeeding, within=30, what="new requests succeed after the restart")
        finally:
            traffic.stop.set()
            await flowing

        later = await http.post(f"/roadmap/scenarios/{easy}/runs", json={})
        assert later.status_code == 202, later.text

        async def all_final():  # type: ignore[no-untyped-def]
            states = []
            for scenario_id in (hard, easy):
                page = (await http.get(f"/roadmap/scenarios/{scenario_id}/runs", params={"pageSize": 100})).json()
                states += page["items"]
            return states if all(s["status"] in FINAL for s in states) else None

        states = await poll(all_final, within=90, every=0.5, what="every run reaches a final state")

        # And the queue drains: jobs whose end could not be recorded were taken up again.
        async def queue_empty():  # type: ignore[no-untyped-def]
            return (await on_database(postgres, "SELECT count(*) AS left FROM queue.pgqueuer"))[0]["left"] == 0

        await poll(queue_empty, within=30, every=0.5, what="the job queue drains")

    outcomes = Counter(status for _, status in traffic.statuses)
    assert outcomes[503] > 0, f"no request met the database down: {outcomes}"
    assert set(outcomes) <= {200, 201, 202, 503}, outcomes

    # Every write the client was told succeeded is there; every 503 write is all there or not at all.
    rows = await on_database(
        postgres,
        "SELECT split_part(i.ref, '-', 1) || '-' AS prefix, count(*) AS ideas, count(s.ref) AS scores"
        " FROM scoring.ideas i LEFT JOIN scoring.scores s ON s.idea_id = i.id"
        " WHERE i.ref LIKE 'W%' GROUP BY 1",
    )
    written = {row["prefix"]: (row["ideas"], row["scores"]) for row in rows}
    for prefix, status in traffic.writes:
        if status == 201:
            assert written.get(prefix) == (5, 5), (prefix, written.get(prefix))
        else:
            assert written.get(prefix, (0, 0)) in ((0, 0), (5, 5)), (prefix, status, written.get(prefix))
    assert set(written) <= {prefix for prefix, _ in traffic.writes}

    # Every accepted run is there and finished; none is left running or queued, and none failed.
    by_id = {state["id"]: state for state in states}
    accepted = hard_runs + [run for run, status in traffic.runs if status == 202] + [later.json()["id"]]
    assert set(accepted) <= set(by_id), set(accepted) - set(by_id)
    assert [(s["id"], s["status"], s["error"]) for s in states if s["status"] != "succeeded"] == []
    assert job_waiting_for_database(log_path), "no run finished while the database was down"

    # Each run's outcome was recorded exactly once.
    recorded = Counter()
    for line in log_path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "run finished" and entry.get("recorded") is True:
            recorded[entry["run_id"]] += 1
    assert {run: recorded[run] for run in by_id} == dict.fromkeys(by_id, 1), recorded


async def test_a_push_under_way_when_the_database_restarts_is_carried_on_and_makes_each_issue_once(
    postgres, tmp_path, jira
):
    log_path = tmp_path / "serve.log"
    editor = bearer(EDITOR)
    async with serving(
        postgres,
        log_path,
        tmp_path / "app",
        {"ROADMAP_SECRET_PUSH_TEST_JIRA_TOKEN": jira.auth[1], "ROADMAP_OUTBOUND_ALLOWED_HOSTS": jira.host},
    ) as http:
        scored, plan = await approved_plan(http, bearer)
        cid = await connect(http, jira, scored["portfolioId"], editor)
        ideas, epics = len(plan["assignments"]), len({a["phase"] for a in plan["assignments"]})

        jira.slow(JIRA_DELAY)
        url = await start_push(http, cid, plan, editor)

        async def recorded_an_issue():  # type: ignore[no-untyped-def]
            return (await on_database(postgres, "SELECT count(*) AS made FROM integrations.issue_links"))[0]["made"]

        # Stopped once the push has made and recorded an issue, while it is at work on the next.
        await poll(recorded_an_issue, within=60, what="the push records its first issue")
        await asyncio.to_thread(postgres.stop)
        # Stay down until the push has met the database gone (or long enough that it would have:
        # the checks below then say what went wrong).
        with contextlib.suppress(AssertionError):
            await poll(lambda: asyncio.to_thread(push_stopped_by_the_database, log_path), within=30,
                       what="the push meets the database gone")  # fmt: skip
        jira.slow(0)
        await asyncio.to_thread(postgres.start)

        async def finished():  # type: ignore[no-untyped-def]
            response = await http.get(url, headers=editor)
            push = response.json() if response.status_code == 200 else {}
            return push if push.get("status") in {"succeeded", "failed"} else None

        push = await poll(finished, within=60, every=0.5, what="the push finishes")

    assert push["status"] == "succeeded" and push["errors"] == [], push
    # Cut short by the restart (it was under way) and carried on by a later attempt.
    assert push["attempts"] >= 2 and push["lastError"] is None, push
    # What the cut-short attempt made is on the push's record with what the next one made.
    # Each epic and issue counts once, as created by one attempt or found by the next (made
    # by the cut-short attempt before it could record it); the one link once.
    counts = push["counts"]
    assert counts["created"] + counts["found"] == epics + ideas and counts["linked"] == 1, counts
    assert counts["failed"] == counts["toDo"] == 0, counts
    assert_one_issue_per_idea_and_one_epic_per_phase(jira, plan)
    assert len(jira.blocks()) == 1
    # No job of the push ended in an exception (say, releasing a lock that went with the server).
    assert push_errors(log_path) == []


def push_errors(log_path: Path) -> list[str]:
    """The errors the app logged about pushes and their jobs."""
    errors = []
    for line in log_path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry.get("level") == "error" and (
                entry["logger"].startswith("integrations") or PUSH_JOB in entry["message"]
            ):
                errors.append(f"{entry['message']}: {entry.get('exception', '')[-300:]}")
    return errors


def push_stopped_by_the_database(log_path: Path) -> bool:
    """Whether the app's log says the push's work met the database gone: it waits to record
    that it stopped, or (what this test guards against) it failed."""
    text = log_path.read_text()
    return job_waiting_for_database(log_path) or "push failed" in text


async def test_a_server_gone_from_its_unix_socket_is_a_503_not_a_500(settings, token_for, tmp_path):
    # A server restarting behind a unix socket (the embedded default, a cloud SQL proxy) is,
    # meanwhile, a socket file that does not exist: the driver raises FileNotFoundError.
    pool = await asyncpg.create_pool(f"postgresql://postgres@/roadmap?host={tmp_path}", min_size=0, max_size=1)
    app = create_single_process_app(settings, source=PoolSource(pool), run_jobs=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            assert (await http.get("/health/ready")).status_code == 503
            response = await http.get("/scoring/portfolios", headers=token_for("viewer"))
    finally:
        await pool.close()
    assert response.status_code == 503, response.text
    assert response.json()["type"].endswith("/service-unavailable")
