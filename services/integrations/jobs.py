"""Job entrypoints of the integrations service: a push of an approved plan to Jira.

The queue delivers at least once; a push is claimed with a new attempt number and only that
attempt records the outcome. Re-running a push is safe by construction (see push.py).
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import httpx
import msgspec

from services.integrations import repository
from services.integrations.jira_client import JiraClient, JiraError, OutcomeUnknown
from services.integrations.plan_source import PlanSnapshot
from services.integrations.push import Push
from services.kit.jobs import JobContext, JobHandler
from services.kit.secrets import SecretError, read_secret

log = logging.getLogger("integrations.jobs")

PUSH_JOB = "integrations.push"


async def push_plan(job: JobContext) -> None:
    """Push the plan a push names to its connection's Jira project."""
    push_id = UUID(job.payload.decode())
    async with job.pool.acquire() as conn:
        claimed = await repository.claim_push(conn, push_id)
    if claimed is None:
        return
    row, snapshot = claimed
    async with job.pool.acquire() as conn:
        connection = await repository.get_connection(conn, row.connection_id)

    async def progress(state: dict[str, Any]) -> None:
        async with job.pool.acquire() as conn:
            await repository.push_progress(conn, push_id, row.attempts, state)

    status, operations, errors = "failed", [], []
    try:
        if connection is None:
            raise SecretError("the connection was deleted")
        token = read_secret(connection.api_token_ref)
        async with JiraClient.connect(connection.site_url, connection.account_email, token) as jira:
            push = Push(
                pool=job.pool,
                jira=jira,
                connection=connection,
                plan=msgspec.convert(snapshot, PlanSnapshot),
                progress=progress,
            )
            done = await push.run()
        status, operations, errors = "succeeded", msgspec.to_builtins(done), msgspec.to_builtins(push.errors)
    except (SecretError, JiraError, OutcomeUnknown, httpx.HTTPError) as exc:
        # The secret's value is never in these messages: SecretError names only the reference.
        log.warning("push failed", extra={"fields": {"push_id": str(push_id), "error": type(exc).__name__}})
        errors = [{"idea": None, "status": getattr(exc, "status", None), "messages": [str(exc)], "fields": {}}]
    except Exception:
        # A bug must not leave the push "running" for ever: record it failed, keep the traceback in the log.
        log.exception("push failed unexpectedly", extra={"fields": {"push_id": str(push_id)}})
        errors = [{"idea": None, "status": None, "messages": ["internal error; see the service log"], "fields": {}}]
    async with job.pool.acquire() as conn:
        await repository.finish_push(conn, push_id, row.attempts, status=status, operations=operations, errors=errors)


HANDLERS: dict[str, JobHandler] = {PUSH_JOB: push_plan}
