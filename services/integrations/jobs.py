"""Job entrypoints of the integrations service: a push of an approved plan to Jira.

The queue delivers at least once; a push is claimed with a new attempt number and only that
attempt records the outcome. Re-running a push is safe by construction (see push.py).

Jira may be down for longer than a call's own retries last (Settings.jira_call_retry_seconds).
Then the push does not fail: in one transaction it records what it carried out, that it is
`waiting`, and the job, enqueued with a delay, that will carry it on; each wait is longer than
the last (OutagePolicy). When Jira is back the
next attempt finds the work already done in the link table and carries on. Only an outage
longer than Settings.jira_outage_give_up_seconds makes it fail; errors a retry will not fix
(credentials, permissions, a refused request, a missing secret) fail it at once.

A PostgreSQL restart does not lose a push either. Claiming it, and recording that it finished or
waits, are tried again until the database answers (each is a conditional write, so safe to
repeat). An attempt whose own writes (progress, the link table) meet the database gone stops
there; once the database answers it records the push `waiting` for a moment, with the job that
carries it on, and that attempt finds what this one made, in the link table or by its labels.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec

from services.integrations import push_repository as pushes, repository
from services.integrations.jira_access import JiraAccess
from services.integrations.jira_answers import NOT_JIRA
from services.integrations.jira_client import JiraClient, JiraError, JiraUnavailable, OutcomeUnknown, unavailable
from services.integrations.plan_source import PlanSnapshot
from services.integrations.push import Checkpoint, Push
from services.integrations.push_events import push_finished
from services.integrations.push_plan import Operation, final_status, merge_operations, outcome_counts
from services.integrations.retry import OutagePolicy, RetryPolicy
from services.kit.db import database_unavailable
from services.kit.jobs import JobContext, JobHandler, enqueue
from services.kit.outbound import OutboundRefused
from services.kit.secrets import SecretError
from services.kit.settings import Settings

log = logging.getLogger("integrations.jobs")

PUSH_JOB = "integrations.push"

BUSY = "another push to this Jira project is under way; this one follows it"

# Once the database answers again, a push cut short by its restart is carried on after a wait
# drawn from this range, so the pushes of a whole server do not all start again at one moment.
AFTER_DATABASE_WAIT_SECONDS = (1.0, 3.0)

_rng = random.Random()


def outage_policy(settings: Settings) -> OutagePolicy:
    """How pushes wait out a Jira outage, from the settings."""
    return OutagePolicy(
        first=settings.jira_outage_first_wait_seconds,
        cap=settings.jira_outage_max_wait_seconds,
        give_up=settings.jira_outage_give_up_seconds,
    )


def _error(exc: BaseException | None, message: str | None = None) -> list[dict[str, Any]]:
    return [{"idea": None, "status": getattr(exc, "status", None), "messages": [message or str(exc)], "fields": {}}]


def _shown(exc: BaseException) -> str:
    """What a push shows of a failed call: Jira's own (cleaned) words, never another host's."""
    return str(exc) if isinstance(exc, JiraError | OutcomeUnknown) else NOT_JIRA


def _refusal(exc: BaseException) -> str | None:
    """How a refusal of ours reads in the push's errors (None: the exception's own, already safe, text)."""
    if isinstance(exc, OutboundRefused):
        return f"the connection's siteUrl is refused now: it {exc}"
    if isinstance(exc, SecretError):
        return f"the connection's apiTokenRef cannot be used here: {exc}"
    return None


async def push_plan(job: JobContext) -> None:
    """Push the plan a push names to its connection's Jira project."""
    push_id = UUID(job.payload.decode())

    Claimed = tuple[pushes.PushRow, dict[str, Any], repository.ConnectionRow | None, tuple[str, str] | None]

    async def claim(conn: asyncpg.Connection) -> Claimed | None:
        claimed = await pushes.claim_push(conn, push_id, job.job_id)
        if claimed is None:
            return None
        connection = await repository.get_connection(conn, claimed[0].connection_id)
        stop = None if connection is None else await pushes.stop_reason(conn, claimed[0], connection.portfolio_id)
        return *claimed, connection, stop

    # Repeating a claim whose answer was lost only takes the push with the next attempt number.
    claimed = await job.on_database("claim a push", claim)
    if claimed is None:
        return
    row, snapshot, connection, stop = claimed
    earlier = msgspec.convert(row.operations, list[Operation])
    if connection is None:
        await _finish(job, row, "failed", earlier, _error(None, "the connection was deleted"))
        return
    if stop is not None:  # cancelled while running on a worker that died, or its plan superseded since
        await _finish(job, row, "cancelled", earlier, _error(None, PushStopped(*stop).message))
        return
    access = JiraAccess(job.settings)
    try:
        # Checked again here, as it is used: the reference and the site, whatever was stored.
        jira = access.client(connection, retry=RetryPolicy(max_total_seconds=job.settings.jira_call_retry_seconds))
    except (SecretError, OutboundRefused) as exc:
        # The secret's value is never in these messages: SecretError names only the reference.
        log.warning("push failed", extra={"fields": {"push_id": str(push_id), "error": type(exc).__name__}})
        await _finish(job, row, "failed", earlier, _error(exc, _refusal(exc)))
        return

    try:
        async with jira, job.pool.acquire() as lock:  # the client is closed on every way out
            # Two pushes to one Jira project at once could both miss an issue in their searches and
            # both create it: one at a time. The lock goes with the session, so a dead worker's too.
            if not await pushes.lock_connection(lock, row.connection_id):
                first = job.settings.jira_outage_first_wait_seconds
                await _wait(job, row, earlier, since=row.waiting_since, waits=row.outage_waits,
                            wait=_rng.uniform(first / 2, first), reason=BUSY)  # fmt: skip
                return
            try:
                # A lock's session that died (the database restarted) took the lock with it;
                # the attempt then stops before its next create, and waits like for an outage.
                checkpoint = _checkpoint(job, row, connection.portfolio_id, lock)
                await _attempt(job, row, snapshot, connection, jira, earlier, checkpoint=checkpoint)
            finally:
                await _unlock(lock, row.connection_id)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # Taking the lock, or handing its connection back, met the database gone. An attempt
        # that ran recorded its own outcome, and then this write is superseded and does nothing.
        await _wait_for_database(job, row, earlier, exc, carried_on=False)


class ProjectLockLost(Exception):
    """The session holding the push's lock on its Jira project is gone, and the lock with it."""


class PushStopped(Exception):
    """The push must stop before its next write: `kind` is `cancelled` (by whom) or `superseded` (by which plan)."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind, self.detail = kind, detail
        if kind == "cancelled":
            self.message = (
                f"cancelled by {detail}; it stopped before its next write to Jira, and what it made is recorded"
            )
        else:
            self.message = (
                f"its plan was superseded: plan {detail} of the portfolio was pushed since; it stopped before its next "
                "write to Jira, and what it made is recorded"
            )
        super().__init__(self.message)


def _checkpoint(job: JobContext, row: pushes.PushRow, portfolio_id: UUID, lock: asyncpg.Connection) -> Checkpoint:
    """What a push checks before each write to Jira: it still holds its project, and may carry on."""

    async def checkpoint() -> None:
        await _still_holds(lock)
        async with job.pool.acquire() as conn:
            stop = await pushes.stop_reason(conn, row, portfolio_id)
        if stop is not None:
            raise PushStopped(*stop)

    return checkpoint


async def _still_holds(lock: asyncpg.Connection) -> None:
    """Raise ProjectLockLost unless the lock's session is alive (a live session keeps its lock)."""
    try:
        await lock.fetchval("SELECT 1")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        # The pool detaches a connection it saw die, hence InterfaceError among these.
        raise ProjectLockLost("the push's hold on its Jira project went with its database session") from exc


async def _unlock(lock: asyncpg.Connection, connection_id: UUID) -> None:
    try:
        await pushes.unlock_connection(lock, connection_id)
    except Exception as exc:
        # The pool takes back a connection that died, so the lock's may be gone from under it.
        if not (database_unavailable(exc) or "released back to the pool" in str(exc)):
            raise
        # The session died with the server, and its advisory lock with it: nothing to release.


async def _attempt(job: JobContext, row: pushes.PushRow, snapshot: dict[str, Any],
                   connection: repository.ConnectionRow, jira: JiraClient, earlier: list[Operation],
                   *, checkpoint: Checkpoint) -> None:  # fmt: skip
    push_id = row.id

    async def progress(state: dict[str, Any]) -> None:
        async with job.pool.acquire() as conn:
            await pushes.push_progress(conn, push_id, row.attempts, state)

    plan = msgspec.convert(snapshot, PlanSnapshot)
    push = Push(pool=job.pool, jira=jira, connection=connection, plan=plan, progress=progress, checkpoint=checkpoint)
    try:
        done = await push.run()
    except PushStopped as exc:
        log.info("push stopped", extra={"fields": {"push_id": str(push_id), "why": exc.kind}})
        operations = merge_operations(earlier, push.result(unreached="pending"))
        await _finish(job, row, "cancelled", operations, [*_errors(push.failed()), *_error(None, exc.message)], push)
    except (JiraError, OutcomeUnknown, httpx.HTTPError, OutboundRefused) as exc:
        if unavailable(exc) or isinstance(exc, httpx.HTTPError):
            # httpx errors the client did not turn into JiraUnavailable: no answer, as from a closed port.
            await _wait_for_jira(job, row, push, earlier, exc)
            return
        log.warning("push failed", extra={"fields": {"push_id": str(push_id), "error": type(exc).__name__}})
        await _finish(
            job, row, "failed", merge_operations(earlier, push.carried_out()), _error(exc, _refusal(exc)), push
        )
    except Exception as exc:
        if database_unavailable(exc) or isinstance(exc, ProjectLockLost):
            await _wait_for_database(job, row, merge_operations(earlier, push.carried_out()), exc,
                                     carried_on=bool(push.carried_out()))  # fmt: skip
            return
        # A bug must not leave the push "running" for ever: record it failed, keep the traceback in the log.
        log.exception("push failed unexpectedly", extra={"fields": {"push_id": str(push_id)}})
        await _finish(job, row, "failed", merge_operations(earlier, push.carried_out()),
                     _error(None, "internal error; see the service log"))  # fmt: skip
    else:
        operations = merge_operations(earlier, done)
        await _finish(job, row, final_status(operations), operations, _errors(push.failed()), push)


def _errors(operations: list[Operation]) -> list[dict[str, Any]]:
    """The push record's errors: each idea (or link) Jira refused or that waits, with what to do."""
    shown = []
    for op in operations:
        error = op.error
        entry: dict[str, Any] = {"idea": op.idea, "status": error.status if error else None,
                                 "messages": error.messages if error else [], "fields": error.fields if error else {},
                                 "remedy": error.remedy if error else "", "outcome": op.outcome}  # fmt: skip
        if op.blocker is not None:
            entry |= {"blocker": op.blocker, "blocked": op.blocked}
        shown.append(entry)
    return shown


async def _finish(
    job: JobContext,
    row: pushes.PushRow,
    status: str,
    operations: list[Operation],
    errors: list[dict[str, Any]],
    push: Push | None = None,
) -> None:
    unmapped = None if push is None or push.unmapped is None else msgspec.to_builtins(push.unmapped)

    async def finish(conn: asyncpg.Connection) -> bool:
        # The final state and the push.finished event commit together, or neither does: the
        # subscribers and the plan's audit trail hear of every push that ended, and of no other.
        async with conn.transaction():
            finished = await pushes.finish_push(conn, row.id, row.attempts, status=status, errors=errors,
                                                operations=msgspec.to_builtins(operations), unmapped_owners=unmapped)  # fmt: skip
            if finished is None:
                return False
            await push_finished(conn, row, portfolio_id=finished.portfolio_id, status=status,
                                counts=outcome_counts(operations), cancelled_by=finished.cancel_requested_by)  # fmt: skip
        return True

    # A repeat after a commit whose answer was lost finds the push finished and changes nothing.
    await job.on_database("record a push's outcome", finish)


async def _wait_for_jira(
    job: JobContext, row: pushes.PushRow, push: Push, earlier: list[Operation], exc: Exception
) -> None:
    """Record the push as waiting and ask the queue to run it again later, or give up on a long outage."""
    now = datetime.now(UTC)
    since, waits = row.waiting_since, row.outage_waits
    if push.carried_out() or since is None:
        since, waits = now, 0  # an attempt that got work done was not stuck: this is a new outage
    policy = outage_policy(job.settings)
    outage = (now - since).total_seconds()
    retry_after = exc.retry_after if isinstance(exc, JiraUnavailable) else None
    wait = policy.wait(waits, retry_after, outage, _rng)
    operations = merge_operations(earlier, push.carried_out())
    fields = {"push_id": str(row.id), "error": type(exc).__name__, "status": getattr(exc, "status", None)}
    if wait is None:
        log.warning("push gave up waiting for Jira", extra={"fields": {**fields, "outage_s": round(outage)}})
        message = (
            f"Jira was unavailable for {_duration(outage)}, longer than this server waits "
            f"(ROADMAP_JIRA_OUTAGE_GIVE_UP_SECONDS = {policy.give_up:g}); last error: {_shown(exc)}. "
            "Push again once Jira is back: what this push made is recorded and will not be made twice."
        )
        await _finish(job, row, "failed", operations, _error(exc, message))
        return
    if await _wait(job, row, operations, since=since, waits=waits + 1, wait=wait, reason=_shown(exc)):
        log.warning("push waits for Jira", extra={"fields": {**fields, "in_s": round(wait, 1)}})


async def _wait(job: JobContext, row: pushes.PushRow, operations: list[Operation], *, since: datetime | None,
                waits: int, wait: float, reason: str) -> bool:  # fmt: skip
    """Record the push as waiting and enqueue the job that carries it on, together; False if superseded."""

    async def record(conn: asyncpg.Connection) -> bool:
        now = datetime.now(UTC)
        async with conn.transaction():
            waiting = await pushes.wait_push(
                conn, row.id, row.attempts, since=since, until=now + timedelta(seconds=wait), waits=waits,
                last_error=reason, operations=msgspec.to_builtins(operations),
            )  # fmt: skip
            if not waiting:
                return False  # a later attempt took the push over, or a lost commit did this already
            await pushes.set_push_job(conn, row.id, await enqueue(conn, PUSH_JOB, job.payload, delay=wait))
        return True

    return await job.on_database("record that a push waits", record)


async def _wait_for_database(
    job: JobContext, row: pushes.PushRow, operations: list[Operation], exc: Exception, *, carried_on: bool
) -> None:
    """Once the database answers again, record the push as waiting a moment and enqueue the job that carries it on."""
    # The database going away says nothing about Jira: a Jira outage the push was waiting out
    # goes on being counted, unless this attempt got work done in Jira (see _wait_for_jira).
    since, waits = (None, 0) if carried_on else (row.waiting_since, row.outage_waits)
    wait = _rng.uniform(*AFTER_DATABASE_WAIT_SECONDS)
    reason = f"the database was unavailable ({type(exc).__name__}); the push carries on"
    if await _wait(job, row, operations, since=since, waits=waits, wait=wait, reason=reason):
        log.warning("push waits: the database was unavailable",
                    extra={"fields": {"push_id": str(row.id), "error": type(exc).__name__, "in_s": round(wait, 1)}})  # fmt: skip


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s" if minutes else f"{secs} s"


HANDLERS: dict[str, JobHandler] = {PUSH_JOB: push_plan}
