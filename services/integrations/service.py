"""Use cases of the integrations service: connections, webhook deliveries, delivery progress."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.integrations import repository
from services.integrations.connection_check import ConnectionDraft, check_connection
from services.integrations.delivery_view import IdeaDelivery, PhaseDelivery, delivery_view
from services.integrations.idea_status import IdeaStatus, idea_status, idea_statuses
from services.integrations.jira_access import JiraAccess
from services.integrations.plan_source import PlanSource
from services.integrations.repository import ConnectionRow
from services.integrations.schemas import ConnectionIn, ConnectionPatch
from services.integrations.webhooks import StatusChange, WebhookError, check_identifier, status_change, verify_signature
from services.kit.access import service as access
from services.kit.access.rights import DELIVER, READ, Right
from services.kit.auth import Caller
from services.kit.problems import AppError, Conflict, FieldProblem, InvalidInput, NotFound
from services.kit.secrets import SecretError

log = logging.getLogger("integrations.webhooks")


class BadSignature(AppError):
    slug, title, status = "bad-signature", "The webhook delivery is not signed with this connection's secret", 401


class StaleDelivery(AppError):
    slug, title, status = "stale-delivery", "The webhook delivery's event is too old (or too far ahead) to take", 422


# One answer for every delivery that cannot be verified, whatever the reason, so the answer
# does not tell which connections exist or which have a readable secret.
UNVERIFIED = "The delivery is not signed with this connection's webhook secret."


def _draft(values: dict[str, Any]) -> ConnectionDraft:
    return msgspec.convert(values, ConnectionDraft, from_attributes=True)


async def create_connection(
    conn: asyncpg.Connection, jira_access: JiraAccess, body: ConnectionIn, *, caller: Caller
) -> ConnectionRow:
    """Check the caller's rights on the portfolio, then the connection against its Jira
    (connection_check.py), then record it."""
    try:
        await access.require_access(conn, caller, body.portfolio_id, DELIVER)
    except NotFound:
        problem = FieldProblem(field="portfolioId", message="no such portfolio, or you are not a member of it")
        raise NotFound(f"There is no portfolio {body.portfolio_id}.", errors=[problem]) from None
    values = {**msgspec.structs.asdict(body), "created_by": caller.subject, "site_url": body.site_url.rstrip("/")}
    await check_connection(jira_access, _draft(values))
    try:
        async with conn.transaction():
            return await repository.insert_connection(conn, values)
    except asyncpg.UniqueViolationError:
        raise Conflict(
            "This portfolio already has a connection to that Jira project.",
            errors=[FieldProblem(field="projectKey", message="already connected")],
        ) from None


async def require_connection(
    conn: asyncpg.Connection, caller: Caller, connection_id: UUID, right: Right
) -> ConnectionRow:
    """A connection of a portfolio where the caller's roles allow `right`."""
    row = await load_connection(conn, connection_id)
    missing = f"There is no connection {connection_id}."
    await access.require_access(conn, caller, row.portfolio_id, right, missing=missing)
    return row


async def load_connection(conn: asyncpg.Connection, connection_id: UUID) -> ConnectionRow:
    row = await repository.get_connection(conn, connection_id)
    if row is None:
        raise NotFound(f"There is no connection {connection_id}.")
    return row


async def list_connections(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID | None) -> list[ConnectionRow]:
    """Connections of one portfolio, or of every portfolio the caller is a member of."""
    if portfolio_id is not None:
        await access.require_access(conn, caller, portfolio_id, READ)
    return await repository.list_connections(conn, portfolio_id, scope=access.scope_of(caller))


async def update_connection(
    conn: asyncpg.Connection, jira_access: JiraAccess, caller: Caller, connection_id: UUID, patch: ConnectionPatch
) -> ConnectionRow:
    """Apply the changes if the connection, changed, still passes its check against Jira."""
    current = await require_connection(conn, caller, connection_id, DELIVER)
    changes = {name: value for name, value in msgspec.structs.asdict(patch).items() if value is not msgspec.UNSET}
    values = {**msgspec.structs.asdict(current), **changes}
    await check_connection(jira_access, _draft(values))
    await repository.update_connection(conn, connection_id, values)
    return await load_connection(conn, connection_id)


async def delete_connection(conn: asyncpg.Connection, caller: Caller, connection_id: UUID) -> None:
    await require_connection(conn, caller, connection_id, DELIVER)
    if not await repository.delete_connection(conn, connection_id):
        raise NotFound(f"There is no connection {connection_id}.")


async def receive_webhook(
    conn: asyncpg.Connection,
    jira_access: JiraAccess,
    connection_id: UUID,
    body: bytes,
    *,
    signature: str | None,
    identifier: str | None,
) -> tuple[bool, StatusChange | None, bool]:
    """Verify, drop repeats, and record the status an issue moved to, unless a later event's is there.

    Returns (duplicate, change, applied). A delivery is signed by Jira, not by a member: it
    reaches only its own connection's issues, and needs no portfolio rights.
    """
    connection = await repository.get_connection(conn, connection_id)
    secret = _webhook_secret(jira_access, connection)
    try:
        verify_signature(secret or "", body, signature)
        if secret is None:
            raise WebhookError("no secret to verify with")
    except WebhookError:
        raise BadSignature(UNVERIFIED) from None
    try:
        identifier = check_identifier(identifier)
        change = status_change(body, now=datetime.now(UTC), max_age_seconds=jira_access.webhook_max_age_seconds)
    except WebhookError as exc:
        kind = StaleDelivery if exc.field == "body.timestamp" else InvalidInput
        raise kind(f"{exc.field}: {exc}", errors=[FieldProblem(field=exc.field, message=str(exc))]) from None
    if not await repository.record_delivery(conn, connection_id, identifier):
        return True, None, False
    applied = change is not None and await repository.set_status(
        conn,
        connection_id,
        change.issue_key,
        category=change.category,
        name=change.status_name,
        happened_at=change.happened_at,
    )
    return False, change, applied


def _webhook_secret(jira_access: JiraAccess, connection: ConnectionRow | None) -> str | None:
    """The connection's webhook secret, or None when there is none to verify with (told apart only in the log)."""
    if connection is None or connection.webhook_secret_ref is None:
        return None
    try:
        return jira_access.secret(connection.webhook_secret_ref)
    except SecretError as exc:
        log.warning(
            "webhook secret cannot be read", extra={"fields": {"connection_id": str(connection.id), "error": str(exc)}}
        )
        return None


async def plan_delivery(
    conn: asyncpg.Connection, source: PlanSource, caller: Caller, plan_id: UUID, *, token: str, today: date
) -> tuple[list[PhaseDelivery], list[IdeaDelivery]]:
    """The delivery of a plan the caller may read, per phase and per idea, on `today`."""
    await plan_portfolio(conn, source, caller, plan_id, READ, token=token)
    tracked = await repository.tracked_ideas(conn, plan_id)
    return delivery_view(tracked, await repository.last_snapshot(conn, plan_id), today)


async def plan_portfolio(
    conn: asyncpg.Connection, source: PlanSource, caller: Caller, plan_id: UUID, right: Right, *, token: str
) -> UUID:
    """The portfolio of a plan, if the caller's roles on it allow `right`.

    A plan this service pushed names its portfolio through its pushes; of any other, the
    roadmap service, asked with the caller's token, says whether it exists for the caller.
    """
    portfolio_id = await repository.plan_portfolio(conn, plan_id)
    if portfolio_id is None:
        portfolio_id = await source.plan_portfolio(plan_id, token=token)
    await access.require_access(conn, caller, portfolio_id, right, missing=f"There is no plan {plan_id}.")
    return portfolio_id


async def idea_delivery(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str) -> IdeaStatus:
    """Whether one idea of a portfolio the caller may read is tracked in Jira, and delivered there."""
    await access.require_access(conn, caller, portfolio_id, READ)
    return idea_status(ref, await repository.idea_issues(conn, portfolio_id, ref=ref))


async def ideas_delivery(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID) -> list[IdeaStatus]:
    """The delivery of every idea of a portfolio the caller may read that is tracked in Jira."""
    await access.require_access(conn, caller, portfolio_id, READ)
    return idea_statuses(await repository.idea_issues(conn, portfolio_id))
