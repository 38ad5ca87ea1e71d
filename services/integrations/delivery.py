"""Delivery status read from Jira, for teams that cannot register an admin webhook.

A refresh reads the status category of a plan's issues with the push's kind of search (by
label, 100 labels a query, one page each) and records it as the issue's status at the moment
the reading began: a webhook event that happened later still wins, an older one no longer
applies. Webhooks then only make the view faster.

`ROADMAP_DELIVERY_REFRESH_SECONDS` (Settings.delivery_refresh_seconds; off when unset or 0)
makes every worker, the single process's in-process one included, refresh every plan's delivery
that often; a row in the database lets one worker a period do it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from itertools import groupby
from uuid import UUID

import asyncpg
import msgspec

from services.integrations import repository
from services.integrations.jira_access import JiraAccess
from services.integrations.jira_client import JiraClient
from services.integrations.jira_reads import reading
from services.integrations.push.survey import LABELS_PER_SEARCH, search
from services.integrations.retry import RetryPolicy
from services.kit.db import PoolSource
from services.kit.settings import Settings

log = logging.getLogger("integrations.delivery")


class Refreshed(msgspec.Struct, frozen=True, kw_only=True):
    """What a refresh read: issues asked about, found, and whose status changed."""

    issues: int = 0
    found: int = 0
    changed: int = 0


async def read_statuses(
    conn: asyncpg.Connection,
    jira: JiraClient,
    connection: repository.ConnectionRow,
    tracked: list[repository.TrackedIssue],
) -> Refreshed:
    """Read the tracked issues' statuses from the connection's Jira and record them."""
    began = datetime.now(UTC)
    labels = {issue.label: issue.issue_key for issue in tracked}
    found, changed = 0, 0
    names = list(labels)
    for start in range(0, len(names), LABELS_PER_SEARCH):
        hits = await search(jira, connection.project_key, names[start : start + LABELS_PER_SEARCH])
        for label, hit in hits.items():
            if hit.key != labels[label] or hit.status_category is None:
                continue  # an issue carrying the label that the push did not record is not ours
            found += 1
            category = hit.status_category if hit.status_category in ("new", "indeterminate", "done") else "unknown"
            changed += await repository.read_status(
                conn, connection.id, hit.key, category=category, name=hit.status_name, read_at=began
            )
    return Refreshed(issues=len(tracked), found=found, changed=changed)


Reader = Callable[[JiraAccess, repository.ConnectionRow], AbstractAsyncContextManager[JiraClient]]


async def refresh(
    conn: asyncpg.Connection, access: JiraAccess, tracked: list[repository.TrackedIssue], *, reader: Reader = reading
) -> Refreshed:
    """Refresh the statuses of `tracked` issues, connection by connection; `reader` opens each
    connection's client (by default with a person's patience, and a 422 or 503 when Jira cannot be read)."""
    total = Refreshed()
    for connection_id, group in groupby(tracked, key=lambda issue: issue.connection_id):
        connection = await repository.get_connection(conn, connection_id)
        if connection is None:
            continue
        async with reader(access, connection) as jira:
            done = await read_statuses(conn, jira, connection, list(group))
        total = Refreshed(
            issues=total.issues + done.issues, found=total.found + done.found, changed=total.changed + done.changed
        )
    return total


async def refresh_plan(conn: asyncpg.Connection, access: JiraAccess, plan_id: UUID) -> Refreshed:
    """Read the status of every planned idea's issue of the plan from Jira (a 422 or 503 when it cannot)."""
    return await refresh(conn, access, await repository.tracked_issues(conn, plan_id=plan_id))


@contextlib.asynccontextmanager
async def _patient(access: JiraAccess, connection: repository.ConnectionRow) -> AsyncIterator[JiraClient]:
    # No one waits for the periodic refresh: a call retries a refusal for up to half a minute.
    async with access.client(connection, retry=RetryPolicy(max_total_seconds=30.0)) as jira:
        yield jira


async def refresh_everything(pool: asyncpg.Pool, access: JiraAccess) -> Refreshed:
    """One periodic refresh: every connection's planned issues; a connection that fails is logged and skipped."""
    async with pool.acquire() as conn:
        tracked = await repository.tracked_issues(conn)
    total = Refreshed()
    for connection_id, group in groupby(tracked, key=lambda issue: issue.connection_id):
        try:
            async with pool.acquire() as conn:
                done = await refresh(conn, access, list(group), reader=_patient)
        except Exception as exc:  # one unreachable Jira must not stop the others' refresh
            log.warning(
                "delivery refresh failed",
                extra={"fields": {"connection_id": str(connection_id), "error": type(exc).__name__}},
            )
            continue
        total = Refreshed(
            issues=total.issues + done.issues, found=total.found + done.found, changed=total.changed + done.changed
        )
    return total


async def refresh_periodically(settings: Settings, interval: float, stop: asyncio.Event) -> None:
    """Refresh every plan's delivery every `interval` seconds until `stop` (one worker a period does it)."""
    source = await PoolSource.open(settings)
    access = JiraAccess(settings)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            if stop.is_set():
                break
            try:
                async with source.pool.acquire() as conn:
                    due = await repository.refresh_due(conn, interval * 0.9)  # a tick early is still this period
                if due:
                    done = await refresh_everything(source.pool, access)
                    log.info("delivery refreshed", extra={"fields": msgspec.to_builtins(done)})
            except Exception:
                log.exception("delivery refresh failed; trying again next period")
    finally:
        await source.close()
