"""Long work as jobs on PgQueuer, a queue inside our PostgreSQL.

The queue only schedules. A service enqueues a job with `enqueue` on the request's
connection, inside the request's transaction, so a rolled-back request leaves no job and a
committed one always has its job. Workers (`run_worker`, the `roadmap worker` command, or
the one inside `roadmap serve`) call the service's handler with a `JobContext`; the handler
reads its input from, and writes its progress and outcome to, the service's own tables.

Delivery is at least once. A job whose worker stops heartbeating (the process was killed,
the machine or its network went away) is picked again by another worker once
`Settings.job_retry_after_seconds` have passed, and a worker that is stopped while a job is
still running after `Settings.job_stop_grace_seconds` hands the job back to the queue. So a
handler can run more than once for the same job, possibly while a presumed-dead earlier run
is still finishing. Handlers make their effect exactly once by writing their outcome with a
conditional update that only the first finisher can win, e.g.
`UPDATE roadmap.runs SET status = 'succeeded', ... WHERE id = $1 AND status = 'running'`,
and by keeping everything before that idempotent; `update_once` says whether a call won.

A handler that cannot finish yet because something outside is down (Jira, say) asks to be run
again later by enqueueing its own continuation, `enqueue(conn, entrypoint, payload, delay=s)`,
in the transaction that records in its tables that it waits (and which job carries it on),
and then returns. The waiting state and the job that ends it commit together or not at all,
and no worker is held meanwhile. This rather than PgQueuer's `RetryRequested`, which puts the
same job row back: a second delivery of that job (see above) that finishes would delete the
row, and the wait with it. How long to keep waiting is the handler's business.

A handler that raises is logged (through the JSON log) and PgQueuer records the job as
`exception`, with its traceback, in `queue.pgqueuer_log`; it is not retried. Recording a
failure the user can see is the handler's own business, in its own tables.

Periodic jobs: every worker also runs PgQueuer's scheduler for the `schedules` it is given
(entrypoint -> cron expression). PgQueuer's `pgqueuer_schedules` table makes a due schedule
fire in one worker only, and firing only enqueues the job, so the work is an ordinary job.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import TypeVar

import asyncpg
import msgspec
from pgqueuer import AsyncpgDriver, Job, Queries, QueueManager, RetryRequested
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment, QueryQueueBuilder, QuerySchedulerBuilder
from pgqueuer.core.sm import SchedulerManager
from pgqueuer.domain.models import Schedule
from pgqueuer.domain.settings import DBSettings
from pgqueuer.domain.types import Channel

from services.kit.db import PoolSource, connect, retry_while_unavailable
from services.kit.settings import Settings

log = logging.getLogger("roadmap.jobs")

QUEUE_SCHEMA = "queue"

# PgQueuer needs at least two running jobs per worker: it refuses a worker-wide limit below
# twice its dequeue batch, and the batch is at least one job.
MIN_CONCURRENCY = 2

# How long a job step waits for an unavailable database before it gives up.
DATABASE_PATIENCE_SECONDS = 600.0

T = TypeVar("T")

# A worker whose queue connection fails starts again after this long, doubling to the cap.
_RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0)


class JobContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a handler gets: the job, and where to open its own connections.

    `attempt` counts the times the job was handed back (0 on its first delivery); a worker
    that died does not get to count, so a redelivery after a crash may still say 0.
    """

    job_id: int
    entrypoint: str
    payload: bytes
    attempt: int
    settings: Settings
    pool: asyncpg.Pool

    async def on_database(self, what: str, query: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`query` on a pooled connection, tried again while the database is unavailable.

        For the steps a job must not lose to a database restart (claiming its work, recording
        its outcome); `query` must be safe to repeat. After DATABASE_PATIENCE_SECONDS the
        error is raised: the job fails and the queue hands it out again.
        """

        async def once() -> T:
            async with self.pool.acquire() as conn:
                return await query(conn)

        return await retry_while_unavailable(once, what=what, give_up_after=DATABASE_PATIENCE_SECONDS)


JobHandler = Callable[[JobContext], Awaitable[None]]


class JobQueueMissing(RuntimeError):
    """The database has no job queue tables: its migrations have not been applied."""


@functools.cache
def _queue_names() -> DBSettings:
    # Every name given explicitly: PgQueuer's settings would otherwise read PGQUEUER_*
    # variables, and the names must match migration 0003 whatever the environment says.
    return DBSettings(
        prefix="",
        db_schema=QUEUE_SCHEMA,
        channel=Channel("ch_pgqueuer"),
        function="fn_pgqueuer_changed",
        statistics_table="pgqueuer_statistics",
        queue_status_type="pgqueuer_status",
        queue_table="pgqueuer",
        queue_table_log="pgqueuer_log",
        trigger="tg_pgqueuer_changed",
        schedules_table="pgqueuer_schedules",
    )


def queue_queries(conn: asyncpg.Connection) -> Queries:
    """PgQueuer's queries over `conn`, naming our `queue` schema (queue sizes, the job log, checks)."""
    names = _queue_names()
    return Queries(
        AsyncpgDriver(conn),
        qbe=QueryBuilderEnvironment(names),
        qbq=QueryQueueBuilder(names),
        qbs=QuerySchedulerBuilder(names),
    )


async def enqueue(
    conn: asyncpg.Connection, entrypoint: str, payload: bytes, *, priority: int = 0, delay: float = 0.0
) -> int:
    """Add a job inside the caller's open transaction and return its id.

    The job becomes visible to workers when that transaction commits, and disappears with
    it if it rolls back. Higher `priority` is picked first. With `delay` no worker takes it
    before that many seconds have passed: how a handler asks to be run again later.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("enqueue a job inside the transaction that records the request")
    if not 0 <= delay < float("inf"):
        raise ValueError(f"a job is delayed by a finite, non-negative number of seconds, not {delay!r}")
    after = timedelta(seconds=delay) if delay else None
    (job_id,) = await queue_queries(conn).enqueue(entrypoint, payload, priority, execute_after=after)
    return int(job_id)


async def update_once(conn: asyncpg.Connection, query: str, *args: object) -> bool:
    """Run a conditional UPDATE and say whether it changed a row.

    Give it the update that records a job's outcome, guarded by the state it leaves
    (`... WHERE id = $1 AND status = 'running'`): of several deliveries of one job, exactly
    one gets True, and the others should do nothing more.
    """
    status = await conn.execute(query, *args)
    verb, _, count = status.rpartition(" ")
    if verb != "UPDATE":
        raise ValueError(f"update_once runs an UPDATE, got {verb or status!r}")
    return int(count) > 0


async def run_worker(
    settings: Settings,
    handlers: Mapping[str, JobHandler],
    *,
    concurrency: int = MIN_CONCURRENCY,
    stop: asyncio.Event | None = None,
    schedules: Mapping[str, str] | None = None,
) -> None:
    """Take jobs for `handlers` (entrypoint -> handler) until `stop` is set, and enqueue the
    jobs of `schedules` (entrypoint -> cron expression) when they are due.

    At most `concurrency` jobs run at once in this worker. Without `stop` it runs until
    cancelled, which stops it the same way. A database without the queue tables is an error.

    Anything else that stops the queue manager (a lost database connection shows up as
    several different errors, some not even from the driver) starts it again on a new
    connection after a short pause, so a database restart never leaves a worker that looks
    alive but takes no jobs. Jobs running when the connection went are let finish first.
    """
    if concurrency < MIN_CONCURRENCY:
        raise ValueError(f"a worker runs at least {MIN_CONCURRENCY} jobs at once, got {concurrency}")
    if not settings.database_url:
        raise RuntimeError("no database URL for the job worker")
    stop = stop or asyncio.Event()
    await _check_installed(settings.database_url)
    source = await PoolSource.open(settings)
    try:
        log.info(
            "job worker started",
            extra={"fields": {"entrypoints": sorted(handlers), "concurrency": concurrency}},
        )
        failures = 0
        while not stop.is_set():
            began = time.monotonic()
            try:
                await _run_queue_manager(settings, handlers, source.pool, concurrency, stop, schedules or {})
            except Exception:
                if time.monotonic() - began > _RESTART_DELAYS[-1]:
                    failures = 0  # it ran fine for a while: a new outage starts with short pauses
                delay = _RESTART_DELAYS[min(failures, len(_RESTART_DELAYS) - 1)]
                failures += 1
                log.exception("job worker lost its database; starting again", extra={"fields": {"in_s": delay}})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        log.info("job worker stopped")
    finally:
        await source.close()


async def _check_installed(database_url: str) -> None:
    conn = await connect(database_url)
    try:
        installed = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{QUEUE_SCHEMA}.pgqueuer")
    finally:
        await conn.close()
    if not installed:
        raise JobQueueMissing("the job queue tables are missing: run `roadmap migrate` first")


async def _run_queue_manager(
    settings: Settings,
    handlers: Mapping[str, JobHandler],
    pool: asyncpg.Pool,
    concurrency: int,
    stop: asyncio.Event,
    schedules: Mapping[str, str],
) -> None:
    """One PgQueuer queue manager on its own connection (it LISTENs), and the scheduler, until `stop`."""
    retry_after = timedelta(seconds=settings.job_retry_after_seconds)
    conn = await connect(settings.database_url or "")
    try:
        manager = QueueManager(queue_queries(conn), channel=_queue_names().channel)
        hand_back = asyncio.Event()
        for entrypoint, handler in handlers.items():
            execute = _executor(entrypoint, handler, settings, pool, hand_back)
            manager.entrypoint(entrypoint, accepts_context=False)(execute)
        running = asyncio.create_task(
            manager.run(
                # A dead worker's job is found by polling: nothing NOTIFYs when a heartbeat
                # goes stale, so look at least twice per retry period.
                dequeue_timeout=retry_after / 2,
                batch_size=1,
                max_concurrent_tasks=concurrency,
                heartbeat_timeout=retry_after,
            )
        )
        scheduling = asyncio.create_task(_run_scheduler(settings, schedules, pool))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({running, stopping, scheduling}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            scheduling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduling
            manager.shutdown.set()
            # PgQueuer waits for running jobs before it returns; past the grace period they
            # are handed back rather than awaited, so a long solve cannot hold up a stop.
            await asyncio.wait({running}, timeout=settings.job_stop_grace_seconds)
            hand_back.set()
            await running
        if not scheduling.cancelled() and scheduling.exception() is not None:
            raise scheduling.exception()  # type: ignore[misc]  # the scheduler lost its database: start again
    finally:
        try:
            await asyncio.wait_for(conn.close(), timeout=5)
        except Exception:
            conn.terminate()  # a connection broken mid-operation may not close politely


async def _run_scheduler(settings: Settings, schedules: Mapping[str, str], pool: asyncpg.Pool) -> None:
    """PgQueuer's scheduler on its own connection, enqueueing each due job; runs until cancelled."""
    if not schedules:
        await asyncio.Event().wait()
    conn = await connect(settings.database_url or "")
    try:
        manager = SchedulerManager(queue_queries(conn))
        for entrypoint, expression in schedules.items():
            # clean_old: a schedule whose expression changed in a new release replaces the old one.
            manager.schedule(entrypoint, expression, clean_old=True)(_firing(entrypoint, pool))
        try:
            await manager.run()
        finally:
            manager.shutdown.set()
    finally:
        try:
            await asyncio.wait_for(conn.close(), timeout=5)
        except Exception:
            conn.terminate()


def _firing(entrypoint: str, pool: asyncpg.Pool) -> Callable[[Schedule], Awaitable[None]]:
    async def fire(schedule: Schedule) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, entrypoint, b"")

    return fire


def _executor(
    entrypoint: str,
    handler: JobHandler,
    settings: Settings,
    pool: asyncpg.Pool,
    hand_back: asyncio.Event,
) -> Callable[[Job], Awaitable[None]]:
    async def execute(job: Job) -> None:
        context = JobContext(
            job_id=int(job.id),
            entrypoint=entrypoint,
            payload=job.payload or b"",
            attempt=job.attempts,
            settings=settings,
            pool=pool,
        )
        work = asyncio.create_task(handler(context))
        handed_back = asyncio.create_task(hand_back.wait())
        try:
            await asyncio.wait({work, handed_back}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            handed_back.cancel()
            interrupted = not work.done()
            if interrupted:
                work.cancel()
                await asyncio.wait({work})
        if interrupted and (work.cancelled() or work.exception() is not None):
            fields = {"job_id": context.job_id, "entrypoint": entrypoint}
            log.warning("job handed back unfinished", extra={"fields": fields})
            # PgQueuer puts a job that asks for a retry back in the queue at once.
            raise RetryRequested(reason="the worker stopped before the job finished")
        work.result()

    return execute
