"""HTTP controllers of the integrations service: parse, call one use case, return a schema."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Any, Literal, cast
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter, RawBody

from services.integrations import service
from services.integrations.jira_access import JiraAccess
from services.integrations.plan_source import PlanSource
from services.integrations.push_plan import ACTIONS, Operation, count_actions
from services.integrations.repository import ConnectionRow, PushRow
from services.integrations.schemas import ConnectionIn, ConnectionOut, ConnectionPatch, DeliveryOut, WebhookAck
from services.kit.access.rights import READ
from services.kit.db import Conn
from services.kit.params import caller_of

Plans = NamedDependency[PlanSource]
Access = NamedDependency[JiraAccess]


def connection_out(row: ConnectionRow) -> ConnectionOut:
    return ConnectionOut(
        id=row.id,
        portfolio_id=row.portfolio_id,
        site_url=row.site_url,
        project_key=row.project_key,
        account_email=row.account_email,
        api_token_ref=row.api_token_ref,
        webhook_secret_ref=row.webhook_secret_ref,
        webhook_url=f"/integrations/webhooks/{row.id}",
        mapping=row.mapping,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class ConnectionController(Controller):
    path = "/connections"
    tags = ["jira connections"]

    @post("", operation_id="createConnection")
    async def create(self, request: Request, conn: Conn, jira_access: Access, data: JSONBody[ConnectionIn]) -> ConnectionOut:
        """Connect a portfolio to a Jira project, checked against Jira at once; the API token is given by reference only."""
        return connection_out(await service.create_connection(conn, jira_access, data, caller=caller_of(request)))

    @get("", operation_id="listConnections")
    async def list(
        self,
        request: Request,
        conn: Conn,
        portfolio_id: Annotated[UUID | None, QueryParameter(name="portfolioId")] = None,
    ) -> list[ConnectionOut]:
        """Connections of the caller's portfolios, optionally of one portfolio."""
        rows = await service.list_connections(conn, caller_of(request), portfolio_id)
        return [connection_out(row) for row in rows]

    @get("/{connection_id:uuid}", operation_id="getConnection")
    async def read(self, request: Request, conn: Conn, connection_id: FromPath[UUID]) -> ConnectionOut:
        """One connection (secret references, never secrets)."""
        return connection_out(await service.require_connection(conn, caller_of(request), connection_id, READ))

    @patch("/{connection_id:uuid}", operation_id="updateConnection")
    async def update(
        self, request: Request, conn: Conn, jira_access: Access, connection_id: FromPath[UUID], data: JSONBody[ConnectionPatch]
    ) -> ConnectionOut:
        """Change the account, the secret references or the field mapping; checked against Jira again."""
        return connection_out(await service.update_connection(conn, jira_access, caller_of(request), connection_id, data))

    @delete("/{connection_id:uuid}", operation_id="deleteConnection")
    async def remove(self, request: Request, conn: Conn, connection_id: FromPath[UUID]) -> None:
        """Forget a connection and its link table (the Jira issues stay in Jira)."""
        await service.delete_connection(conn, caller_of(request), connection_id)


class PushIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    plan_id: UUID


PushStatus = Literal["queued", "running", "waiting", "succeeded", "failed"]


class PushOut(msgspec.Struct, rename="camel", kw_only=True):
    """A push. While Jira is unavailable, or another push to the project is under way, it is
    `waiting` until `waitingUntil`, then tries again.

    `waitingSince` and `lastError` describe the Jira outage it is waiting out (null when none),
    and stay on a push that failed because the outage lasted too long.
    """

    id: UUID
    connection_id: UUID
    plan_id: UUID
    status: PushStatus
    progress: dict[str, Any]
    counts: dict[str, int]
    operations: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    attempts: int
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    waiting_since: datetime | None
    waiting_until: datetime | None
    last_error: str | None


class DryRunOut(msgspec.Struct, rename="camel", kw_only=True):
    counts: dict[str, int]
    operations: list[Operation]


def push_out(row: PushRow) -> PushOut:
    counts = Counter(op["action"] for op in row.operations)
    return PushOut(
        id=row.id,
        connection_id=row.connection_id,
        plan_id=row.plan_id,
        status=cast(PushStatus, row.status),
        progress=row.progress,
        counts={action: counts.get(action, 0) for action in ACTIONS},
        operations=row.operations,
        errors=row.errors,
        attempts=row.attempts,
        created_by=row.created_by,
        created_at=row.created_at,
        finished_at=row.finished_at,
        waiting_since=row.waiting_since,
        waiting_until=row.waiting_until,
        last_error=row.last_error,
    )


class PushController(Controller):
    path = ""
    tags = ["jira pushes"]

    @post("/connections/{connection_id:uuid}/dry-run", operation_id="dryRunPush", status_code=200)
    async def dry_run(
        self, request: Request, conn: Conn, plans: Plans, connection_id: FromPath[UUID], data: JSONBody[PushIn]
    ) -> DryRunOut:
        """What pushing the approved plan would create, update, link, mark or leave alone; writes nothing."""
        operations = await service.dry_run(
            conn, plans, connection_id, data.plan_id, caller=caller_of(request), token=request.auth
        )
        return DryRunOut(counts=count_actions(operations), operations=operations)

    @post("/connections/{connection_id:uuid}/pushes", operation_id="startPush", status_code=202)
    async def start(
        self, request: Request, conn: Conn, plans: Plans, connection_id: FromPath[UUID], data: JSONBody[PushIn]
    ) -> Response[PushOut]:
        """Push the approved plan to Jira as a job; 202 with the push's address to poll."""
        push = await service.start_push(
            conn, plans, connection_id, data.plan_id, caller=caller_of(request), token=request.auth
        )
        return Response(push_out(push), status_code=202, headers={"Location": f"/integrations/pushes/{push.id}"})

    @get("/pushes/{push_id:uuid}", operation_id="getPush")
    async def read(self, request: Request, conn: Conn, push_id: FromPath[UUID]) -> PushOut:
        """A push's status, progress, the operations it carried out and Jira's errors per idea."""
        return push_out(await service.require_push(conn, caller_of(request), push_id))


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["jira webhooks"]

    # Jira cannot send our bearer token: a delivery is authenticated by its HMAC signature.
    @post("/{connection_id:uuid}", operation_id="receiveJiraWebhook", status_code=200)
    async def receive(
        self, request: Request, conn: Conn, jira_access: Access, connection_id: FromPath[UUID], body: RawBody
    ) -> WebhookAck:
        """A Jira webhook delivery: signature checked, stale events and repeats refused, status mapped by category.

        An event older than the status already recorded for its issue is acknowledged and not
        applied (`applied: false`): Jira does not deliver in order.
        """
        duplicate, change, applied = await service.receive_webhook(
            conn,
            jira_access,
            connection_id,
            body,
            signature=request.headers.get("x-hub-signature"),
            identifier=request.headers.get("x-atlassian-webhook-identifier"),
        )
        return WebhookAck(
            accepted=True,
            duplicate=duplicate,
            applied=applied,
            issue_key=change.issue_key if change else None,
            category=change.category if change else None,
        )


class DeliveryController(Controller):
    path = "/plans"
    tags = ["delivery"]

    @get("/{plan_id:uuid}/delivery", operation_id="getDelivery")
    async def delivery(self, request: Request, conn: Conn, plans: Plans, plan_id: FromPath[UUID]) -> DeliveryOut:
        """Per phase: the plan's tickets to do, in progress and done, and the budget delivered."""
        phases = await service.plan_delivery(conn, plans, caller_of(request), plan_id, token=request.auth)
        return DeliveryOut(
            plan_id=plan_id,
            phases=phases,
            ideas=sum(p.to_do + p.in_progress + p.done for p in phases),
            done=sum(p.done for p in phases),
        )


INTEGRATION_ROUTES = [ConnectionController, PushController, WebhookController, DeliveryController]
