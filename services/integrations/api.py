"""HTTP controllers of the integrations service: parse, call one use case, return a schema."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter, RawBody

from services.integrations import delivery, push_service, service
from services.integrations.delivery_view import IdeaDelivery, PhaseDelivery
from services.integrations.idea_status import IdeaStatus
from services.integrations.jira_access import JiraAccess
from services.integrations.plan_source import PlanSource
from services.integrations.push_plan import count_actions
from services.integrations.repository import ConnectionRow
from services.integrations.schemas import (
    ConnectionIn,
    ConnectionOut,
    ConnectionPatch,
    DeliveryOut,
    DryRunOut,
    IdeasDeliveryOut,
    LastPush,
    PushIn,
    PushOut,
    Refreshed,
    WebhookAck,
    push_out,
)
from services.kit.access.rights import DELIVER, READ
from services.kit.clock import Clock
from services.kit.db import Conn
from services.kit.params import caller_of

Plans = NamedDependency[PlanSource]
Access = NamedDependency[JiraAccess]
Now = NamedDependency[Clock]


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
    async def create(
        self, request: Request, conn: Conn, jira_access: Access, data: JSONBody[ConnectionIn]
    ) -> ConnectionOut:
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
        self,
        request: Request,
        conn: Conn,
        jira_access: Access,
        connection_id: FromPath[UUID],
        data: JSONBody[ConnectionPatch],
    ) -> ConnectionOut:
        """Change the account, the secret references or the field mapping; checked against Jira again."""
        return connection_out(
            await service.update_connection(conn, jira_access, caller_of(request), connection_id, data)
        )

    @delete("/{connection_id:uuid}", operation_id="deleteConnection")
    async def remove(self, request: Request, conn: Conn, connection_id: FromPath[UUID]) -> None:
        """Forget a connection and its link table (the Jira issues stay in Jira)."""
        await service.delete_connection(conn, caller_of(request), connection_id)


class PushController(Controller):
    path = ""
    tags = ["jira pushes"]

    @post("/connections/{connection_id:uuid}/dry-run", operation_id="dryRunPush", status_code=200)
    async def dry_run(
        self,
        request: Request,
        conn: Conn,
        plans: Plans,
        jira_access: Access,
        connection_id: FromPath[UUID],
        data: JSONBody[PushIn],
    ) -> DryRunOut:
        """What pushing the approved plan would create, find already in Jira, update, link, mark or leave alone.

        It reads Jira (the push's one search by label) and writes nothing; a connection Jira
        cannot be read with is a 422 naming the field, Jira unavailable a 503.
        """
        operations = await push_service.dry_run(
            conn, plans, jira_access, connection_id, data.plan_id, caller=caller_of(request), token=request.auth
        )
        return DryRunOut(counts=count_actions(operations), operations=operations)

    @post("/connections/{connection_id:uuid}/pushes", operation_id="startPush", status_code=202)
    async def start(
        self, request: Request, conn: Conn, plans: Plans, connection_id: FromPath[UUID], data: JSONBody[PushIn]
    ) -> Response[PushOut]:
        """Push the approved plan to Jira as a job; 202 with the push's address to poll."""
        push = await push_service.start_push(
            conn, plans, connection_id, data.plan_id, caller=caller_of(request), token=request.auth
        )
        return Response(push_out(push), status_code=202, headers={"Location": f"/integrations/pushes/{push.id}"})

    @get("/connections/{connection_id:uuid}/pushes", operation_id="listConnectionPushes")
    async def of_connection(self, request: Request, conn: Conn, connection_id: FromPath[UUID]) -> list[PushOut]:
        """The pushes to a connection, newest first (at most 200), with their state and counts."""
        return [push_out(row) for row in await push_service.connection_pushes(conn, caller_of(request), connection_id)]

    @get("/plans/{plan_id:uuid}/pushes", operation_id="listPlanPushes")
    async def of_plan(self, request: Request, conn: Conn, plans: Plans, plan_id: FromPath[UUID]) -> list[PushOut]:
        """The pushes of a plan, newest first (at most 200), with their state and counts."""
        rows = await push_service.plan_pushes(conn, plans, caller_of(request), plan_id, token=request.auth)
        return [push_out(row) for row in rows]

    @get("/pushes/{push_id:uuid}", operation_id="getPush")
    async def read(self, request: Request, conn: Conn, push_id: FromPath[UUID]) -> PushOut:
        """A push's status, progress, each operation's outcome and Jira's errors per idea."""
        return push_out(await push_service.require_push(conn, caller_of(request), push_id))

    @post("/pushes/{push_id:uuid}/cancel", operation_id="cancelPush", status_code=200)
    async def cancel(self, request: Request, conn: Conn, push_id: FromPath[UUID]) -> PushOut:
        """Cancel a push: a queued or waiting one is `cancelled` at once; a running one stops before
        its next write to Jira and then says what it did. 409 when it has already finished."""
        return push_out(await push_service.cancel_push(conn, caller_of(request), push_id))


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
    async def delivery(
        self, request: Request, conn: Conn, plans: Plans, clock: Now, plan_id: FromPath[UUID]
    ) -> DeliveryOut:
        """Per phase and per idea: the plan's tickets to do, in progress, done and late, the budget delivered, and its last push."""
        today = clock().date()
        view = await service.plan_delivery(conn, plans, caller_of(request), plan_id, token=request.auth, today=today)
        return await _delivery_out(conn, plan_id, view, today)

    @post("/{plan_id:uuid}/delivery/refresh", operation_id="refreshDelivery", status_code=200)
    async def refresh(
        self, request: Request, conn: Conn, plans: Plans, jira_access: Access, clock: Now, plan_id: FromPath[UUID]
    ) -> DeliveryOut:
        """Read the status category of the plan's issues from Jira now (no webhook needed), then the delivery view.

        A connection Jira cannot be read with is a 422 naming the field, Jira unavailable a 503.
        """
        caller = caller_of(request)
        await service.plan_portfolio(conn, plans, caller, plan_id, DELIVER, token=request.auth)
        done = await delivery.refresh_plan(conn, jira_access, plan_id)
        today = clock().date()
        view = await service.plan_delivery(conn, plans, caller, plan_id, token=request.auth, today=today)
        out = await _delivery_out(conn, plan_id, view, today)
        return msgspec.structs.replace(
            out, refreshed=Refreshed(issues=done.issues, found=done.found, changed=done.changed)
        )


class IdeaDeliveryController(Controller):
    path = "/portfolios/{portfolio_id:uuid}/ideas"
    tags = ["delivery"]

    @get("/delivery", operation_id="listIdeaDelivery")
    async def of_portfolio(self, request: Request, conn: Conn, portfolio_id: FromPath[UUID]) -> IdeasDeliveryOut:
        """Every idea of the portfolio tracked in Jira (a planned issue of one of its connections),
        with its issues' status categories and whether it is delivered (every issue `done`)."""
        ideas = await service.ideas_delivery(conn, caller_of(request), portfolio_id)
        return IdeasDeliveryOut(portfolio_id=portfolio_id, ideas=ideas)

    @get("/{ref:str}/delivery", operation_id="getIdeaDelivery")
    async def of_idea(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], ref: FromPath[str]
    ) -> IdeaStatus:
        """Whether one idea is tracked in Jira and delivered there; an idea never pushed (or dropped
        from the plan) is `tracked: false`. The scoring service asks this before it takes actuals."""
        return await service.idea_delivery(conn, caller_of(request), portfolio_id, ref)


async def _delivery_out(
    conn: Conn, plan_id: UUID, view: tuple[list[PhaseDelivery], list[IdeaDelivery]], today: date
) -> DeliveryOut:
    phases, rows = view
    last = await push_service.last_push(conn, plan_id)
    return DeliveryOut(
        plan_id=plan_id,
        phases=phases,
        ideas=len(rows),
        done=sum(p.done for p in phases),
        late=sum(p.late for p in phases),
        as_of=today,
        idea_rows=rows,
        last_push=None if last is None else LastPush(id=last.id, status=last.status, counts=last.counts),
    )


INTEGRATION_ROUTES = [
    ConnectionController,
    PushController,
    WebhookController,
    DeliveryController,
    IdeaDeliveryController,
]
