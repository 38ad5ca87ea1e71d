"""Jobs on PgQueuer: enqueued in the request's transaction, run at least once, finished once.

The tests use a database of their own (workers there must not meet other tests' jobs) with
two tables standing in for a service's: `job_runs` (what a request records) and
`job_events` (what handlers did, and which worker did it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import msgspec
import pytest

from services.kit import migrate
from services.kit.db import connect
from services.kit.jobs import JobContext, enqueue, queue_queries, run_worker, update_once
from services.kit.settings import Settings
from services.single_process import create_single_process_app

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
ROADMAP = str(Path(sys.executable).with_name("roadmap"))
RETRY_AFTER_SECONDS = 2.0


@pytest.fixture(scope="module")
def jobs_database_url(make_database: Callable[[str], str]) -> str:
    url = make_database("jobs")
    migrate.upgrade(url)

    async def create_tables() -> None:
        conn = await connect(url)
        try:
            await conn.execute(
                """
                CREATE TABLE job_runs (id bigserial PRIMARY KEY, status text NOT NULL DEFAULT 'queued');
                CREATE TABLE job_events (run_id bigint NOT NULL, worker text NOT NULL, event text NOT NULL);
                """
            )
        finally:
            await conn.close()

    asyncio.run(create_tables())
    return url


@pytest.fixture
def job_settings(settings: Settings, jobs_database_url: str) -> Settings:
    return msgspec.structs.replace(
        settings,
        database_url=jobs_database_url,
        job_retry_after_seconds=RETRY_AFTER_SECONDS,
        job_stop_grace_seconds=1.0,
    )


@pytest.fixture
async def db(jobs_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(jobs_database_url)
    yield conn
    await conn.close()


async def request_run(db: asyncpg.Connection, entrypoint: str, seconds: float = 0) -> tuple[int, int]:
    """What a service's request does: record the run and enqueue its job, in one transaction."""
    async with db.transaction():
        run_id = await db.fetchval("INSERT INTO job_runs DEFAULT VALUES RETURNING id")
        job_id = await enqueue(db, entrypoint, json.dumps({"run": run_id, "seconds": seconds}).encode())
    return run_id, job_id


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)


async def events(db: asyncpg.Connection, run_id: int) -> list[tuple[str, str]]:
    rows = await db.fetch("SELECT worker, event FROM job_events WHERE run_id = $1 ORDER BY event DESC", run_id)
    return [(row["worker"], row["event"]) for row in rows]


async def run_status_is(db: asyncpg.Connection, run_id: int, status: str) -> bool:
    return await db.fetchval("SELECT status FROM job_runs WHERE id = $1", run_id) == status


def recording_handler(worker: str) -> Callable[[JobContext], Awaitable[None]]:
    async def record(job: JobContext) -> None:
        request = json.loads(job.payload)
        await asyncio.sleep(request["seconds"])
        async with job.pool.acquire() as conn, conn.transaction():
            query = "UPDATE job_runs SET status = 'done' WHERE id = $1 AND status = 'queued'"
            if await update_once(conn, query, request["run"]):
                await conn.execute(
                    "INSERT INTO job_events (run_id, worker, event) VALUES ($1, $2, 'done')", request["run"], worker
                )

    return record


async def test_the_migrated_queue_is_exactly_what_pgqueuer_declares(db):
    # When a PgQueuer upgrade changes its schema this fails: add a migration with `pgq sql upgrade`.
    plan = await queue_queries(db).plan_upgrade()
    assert (plan.statements, plan.notes) == ((), ())


async def test_a_job_exists_only_if_the_transaction_that_enqueued_it_commits(db, jobs_database_url):
    observer = await connect(jobs_database_url)
    try:
        with pytest.raises(LookupError):
            async with db.transaction():
                rolled_back = await enqueue(db, "test.never-run", b"{}")
                raise LookupError("the request failed after enqueueing")
        async with db.transaction():
            committed = await enqueue(db, "test.never-run", b"{}", priority=5)
            assert await observer.fetchval("SELECT count(*) FROM queue.pgqueuer WHERE id = $1", committed) == 0
        counts = await observer.fetch(
            "SELECT id, priority, status::text FROM queue.pgqueuer WHERE id = ANY($1::bigint[])",
            [rolled_back, committed],
        )
        assert [tuple(row) for row in counts] == [(committed, 5, "queued")]
    finally:
        await observer.execute("DELETE FROM queue.pgqueuer WHERE entrypoint = 'test.never-run'")
        await observer.close()


async def test_enqueue_refuses_a_connection_outside_a_transaction(db):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        await enqueue(db, "test.never-run", b"{}")


async def test_a_worker_runs_a_job_and_its_effect_is_recorded_once(db, job_settings):
    handler = recording_handler("in-process")
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(job_settings, {"test.record": handler}, stop=stop))
    try:
        run_id, job_id = await request_run(db, "test.record")
        await eventually(lambda: run_status_is(db, run_id, "done"), within=10, what="the job ran")
        # A second delivery of the same job (as after a worker was presumed dead) changes nothing.
        pool = await asyncpg.create_pool(job_settings.database_url, min_size=1, max_size=1)
        try:
            payload = json.dumps({"run": run_id, "seconds": 0}).encode()
            await handler(
                JobContext(
                    job_id=job_id,
                    entrypoint="test.record",
                    payload=payload,
                    attempt=1,
                    settings=job_settings,
                    pool=pool,
                )
            )
        finally:
            await pool.close()
    finally:
        stop.set()
        await worker
    assert await events(db, run_id) == [("in-process", "done")]
    assert await db.fetchval("SELECT count(*) FROM queue.pgqueuer WHERE id = $1", job_id) == 0
    logged = await db.fetch("SELECT status::text FROM queue.pgqueuer_log WHERE job_id = $1 ORDER BY id", job_id)
    assert [row["status"] for row in logged][-1] == "successful"


async def test_a_failing_handler_is_logged_and_its_job_marked_as_an_exception(db, job_settings, caplog):
    async def fail(job: JobContext) -> None:
        raise ValueError("the solver fell over")

    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(job_settings, {"test.fail": fail}, stop=stop))
    try:
        _, job_id = await request_run(db, "test.fail")

        async def logged_as_exception() -> bool:
            query = "SELECT traceback FROM queue.pgqueuer_log WHERE job_id = $1 AND status = 'exception'"
            return await db.fetchval(query, job_id) is not None

        await eventually(logged_as_exception, within=10, what="the failure was logged")
    finally:
        stop.set()
        await worker
    failures = [record for record in caplog.records if record.levelno == logging.ERROR and record.exc_info]
    assert any("the solver fell over" in str(record.exc_info[1]) for record in failures)
    assert await db.fetchval("SELECT count(*) FROM queue.pgqueuer WHERE id = $1", job_id) == 0


async def test_a_stopped_worker_hands_an_unfinished_job_back_to_the_queue(db, job_settings):
    started = asyncio.Event()

    async def endless(job: JobContext) -> None:
        started.set()
        await asyncio.Event().wait()

    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(job_settings, {"test.endless": endless}, stop=stop))
    try:
        _, job_id = await request_run(db, "test.endless")
        await asyncio.wait_for(started.wait(), 10)
    finally:
        stop.set()
        await worker
    try:
        row = await db.fetchrow("SELECT status::text, attempts FROM queue.pgqueuer WHERE id = $1", job_id)
        assert (row["status"], row["attempts"]) == ("queued", 1)
    finally:
        await db.execute("DELETE FROM queue.pgqueuer WHERE id = $1", job_id)


def start_worker_process(name: str, database_url: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / f"{name}.log"
    env = {
        **os.environ,
        "ROADMAP_DATABASE_URL": database_url,
        "ROADMAP_DATA_DIR": str(tmp_path),
        "ROADMAP_JOB_RETRY_AFTER_SECONDS": str(RETRY_AFTER_SECONDS),
    }
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(HERE / "job_worker_script.py"), name],
            env=env,
            stderr=stderr,
            stdout=subprocess.DEVNULL,
        )
    return process, log


async def wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes], within: float = 30) -> None:
    async def printed() -> bool:
        assert process.poll() is None, f"the process exited:\n{log.read_text()}"
        return text in log.read_text()

    await eventually(printed, within=within, what=f"{text!r} in {log.name}")


async def test_a_job_whose_worker_is_killed_is_taken_up_by_another_and_finished_once(db, jobs_database_url, tmp_path):
    workers = {name: start_worker_process(name, jobs_database_url, tmp_path) for name in ("worker-a", "worker-b")}
    try:
        for process, log in workers.values():
            await wait_for_line(log, "job worker started", process)
        run_id, _ = await request_run(db, "test.slow", seconds=3)

        async def started_by() -> bool:
            return bool(await events(db, run_id))

        await eventually(started_by, within=10, what="a worker took the job")
        [(first, _)] = await events(db, run_id)
        victim, _ = workers[first]
        victim.kill()  # SIGKILL: no goodbye, the job stays picked with a heartbeat going stale
        victim.wait(timeout=10)

        await eventually(lambda: run_status_is(db, run_id, "done"), within=20, what="the job was taken up again")
        (survivor,) = set(workers) - {first}
        assert sorted(await events(db, run_id)) == sorted(
            [(first, "started"), (survivor, "started"), (survivor, "done")]
        )
        survivor_process, survivor_log = workers[survivor]
        survivor_process.send_signal(signal.SIGTERM)
        assert survivor_process.wait(timeout=15) == 0, survivor_log.read_text()
    finally:
        for process, _ in workers.values():
            if process.poll() is None:
                process.kill()
                process.wait()


async def test_the_worker_command_runs_until_sigterm_and_exits_cleanly(jobs_database_url, tmp_path):
    log = tmp_path / "worker.log"
    env = {**os.environ, "ROADMAP_DATABASE_URL": jobs_database_url, "ROADMAP_DATA_DIR": str(tmp_path)}
    with log.open("wb") as stderr:
        process = subprocess.Popen([ROADMAP, "worker", "--concurrency", "3"], env=env, stderr=stderr)
    try:
        await wait_for_line(log, "job worker started", process)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["message"] for line in lines if line["logger"] == "roadmap.jobs"] == [
        "job worker started",
        "job worker stopped",
    ]
    assert lines[0]["concurrency"] == 3


def test_the_worker_command_asks_for_migrations_on_an_empty_database(make_database, tmp_path):
    env = {**os.environ, "ROADMAP_DATABASE_URL": make_database("jobs_empty"), "ROADMAP_DATA_DIR": str(tmp_path)}
    result = subprocess.run([ROADMAP, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "roadmap migrate" in result.stderr


async def test_the_single_process_app_runs_a_worker_for_its_lifespan(job_settings, caplog):
    caplog.set_level(logging.INFO, logger="roadmap.jobs")
    app = create_single_process_app(job_settings, source=NoPool())
    async with app.lifespan():
        await eventually(lambda: logged(caplog, "job worker started"), within=10, what="the worker started")
    assert await logged(caplog, "job worker stopped")


class NoPool:
    """The services get no connections here: only the worker's lifespan is under test."""

    def connection(self):  # type: ignore[no-untyped-def]
        raise AssertionError("no request expected")

    async def close(self) -> None:
        return None


async def logged(caplog: pytest.LogCaptureFixture, message: str) -> bool:
    return any(record.name == "roadmap.jobs" and record.getMessage() == message for record in caplog.records)
