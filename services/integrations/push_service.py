"""Use cases of pushes: dry run, start, read, list and cancel, each checked against the caller's rights."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from services.integrations import push_repository as pushes
from services.integrations.connection_check import parse_mapping
from services.integrations.jira_access import JiraAccess
from services.integrations.jira_reads import reading
from services.integrations.jobs import PUSH_JOB
from services.integrations.plan_source import PlanSnapshot, PlanSource
from services.integrations.push import known_issues
from services.integrations.push.site import learn_site
from services.integrations.push.survey import survey
from services.integrations.push_events import push_finished, push_started
from services.integrations.push_plan import Operation, outcome_counts, plan_operations
from services.integrations.push_repository import PushRow
from services.integrations.repository import ConnectionRow
from services.integrations.schemas import PushOut, push_out
from services.integrations.service import load_connection, plan_portfolio, require_connection
from services.kit import jobs
from services.kit.access import service as access
from services.kit.access.rights import DELIVER, READ, Right
from services.kit.auth import Caller
from services.kit.problems import Conflict, NotFound


def _same_portfolio(connection: ConnectionRow, plan: PlanSnapshot) -> None:
    if str(connection.portfolio_id) != plan.portfolio_id:
        raise Conflict("The plan belongs to another portfolio than this connection.")


async def dry_run(
    conn: asyncpg.Connection, source: PlanSource, jira_access: JiraAccess, connection_id: UUID, plan_id: UUID,
    *, caller: Caller, token: str,
) -> list[Operation]:  # fmt: skip
    """What a push of the plan would do now: it reads Jira (the push's one search) and writes nothing."""
    connection = await require_connection(conn, caller, connection_id, DELIVER)
    plan = await source.approved_plan(plan_id, token=token)
    _same_portfolio(connection, plan)
    mapping = parse_mapping(connection.mapping)
    used = {idea.phase for idea in plan.ideas}
    async with reading(jira_access, connection) as jira:
        in_jira, _ = await survey(
            jira,
            connection.project_key,
            plan.portfolio_id,
            [p.key for p in plan.phases if p.key in used],
            [i.ref for i in plan.ideas],
        )
        # The same site facts a push would use, so the fields (and their fingerprints) compare alike.
        site, _ = await learn_site(jira, plan.ideas, [p for p in plan.phases if p.key in used])
    return plan_operations(
        project_key=connection.project_key, mapping=mapping, portfolio_id=plan.portfolio_id, phases=plan.phases,
        ideas=plan.ideas, dependencies=plan.dependencies, known=await known_issues(conn, connection_id),
        currency=plan.currency, in_jira=in_jira, site=site,
    )  # fmt: skip


async def start_push(
    conn: asyncpg.Connection, source: PlanSource, connection_id: UUID, plan_id: UUID, *, caller: Caller, token: str
) -> PushRow:
    """Record a push with the plan as it is now, and enqueue its job and the `push.started` event
    (which the plan's audit trail records) in the same transaction."""
    connection = await load_connection(conn, connection_id)
    actor = await access.require_access(
        conn, caller, connection.portfolio_id, DELIVER, missing=f"There is no connection {connection_id}."
    )
    plan = await source.approved_plan(plan_id, token=token)
    _same_portfolio(connection, plan)
    parse_mapping(connection.mapping)
    push = await pushes.insert_push(
        conn,
        connection_id=connection_id,
        plan_id=plan_id,
        snapshot=msgspec.to_builtins(plan),
        created_by=caller.subject,
        created_by_role=actor.role_allowing(DELIVER),
    )
    await jobs.enqueue(conn, PUSH_JOB, str(push.id).encode())
    await push_started(conn, push, portfolio_id=connection.portfolio_id)
    return push


async def require_push(conn: asyncpg.Connection, caller: Caller, push_id: UUID, right: Right = READ) -> PushRow:
    """A push to a connection of a portfolio where the caller's roles allow `right`."""
    row = await pushes.get_push(conn, push_id)
    if row is None:
        raise NotFound(f"There is no push {push_id}.")
    connection = await load_connection(conn, row.connection_id)
    await access.require_access(conn, caller, connection.portfolio_id, right, missing=f"There is no push {push_id}.")
    return row


async def connection_pushes(conn: asyncpg.Connection, caller: Caller, connection_id: UUID) -> list[PushRow]:
    """The pushes to a connection the caller may read, newest first."""
    await require_connection(conn, caller, connection_id, READ)
    return await pushes.list_pushes(conn, connection_id=connection_id, scope=access.scope_of(caller))


async def plan_pushes(
    conn: asyncpg.Connection, source: PlanSource, caller: Caller, plan_id: UUID, *, token: str
) -> list[PushRow]:
    """The pushes of a plan the caller may read, newest first (none when it was never pushed)."""
    await plan_portfolio(conn, source, caller, plan_id, READ, token=token)
    return await pushes.list_pushes(conn, plan_id=plan_id, scope=access.scope_of(caller))


async def cancel_push(conn: asyncpg.Connection, caller: Caller, push_id: UUID) -> PushRow:
    """Cancel a push: a queued or waiting one at once, a running one before its next write to Jira."""
    row = await require_push(conn, caller, push_id, DELIVER)
    cancelled = await pushes.cancel_push(conn, push_id, by=caller.subject)
    if cancelled is None:
        raise Conflict(f"The push has already finished ({row.status}); there is nothing to cancel.")
    if cancelled.status == "cancelled":  # queued or waiting: final now; a running one says so when it stops
        connection = await load_connection(conn, row.connection_id)
        counts = outcome_counts(msgspec.convert(cancelled.operations, list[Operation]))
        await push_finished(conn, cancelled, portfolio_id=connection.portfolio_id, status="cancelled", counts=counts,
                            cancelled_by=cancelled.cancel_requested_by)  # fmt: skip
    return cancelled


async def last_push(conn: asyncpg.Connection, plan_id: UUID) -> PushOut | None:
    """The plan's latest push as its record shows it (the caller's right on the plan is checked before)."""
    rows = await pushes.list_pushes(conn, plan_id=plan_id, scope=None, limit=1)
    return push_out(rows[0]) if rows else None
