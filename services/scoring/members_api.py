"""HTTP controllers of a portfolio's members: who may do what on it.

Members are subjects (a token's `sub`) or identity-provider groups. Admins and the
portfolio's programme managers manage them; every member may see them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, put
from litestar.params import FromPath, JSONBody

from services.kit.access import service as access
from services.kit.access.repository import MemberKind, MemberRow
from services.kit.db import Conn
from services.kit.params import caller_of

RoleName = Literal["viewer", "stakeholder", "programme_manager", "leader", "delivery"]


class MembershipIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """The roles a member holds on the portfolio: at least one, replacing those it had."""

    roles: Annotated[list[RoleName], msgspec.Meta(min_length=1, max_length=5)]


class MemberOut(msgspec.Struct, rename="camel", kw_only=True):
    kind: MemberKind
    name: str
    roles: list[RoleName]
    added_by: str
    added_at: datetime
    updated_at: datetime


def member_out(row: MemberRow) -> MemberOut:
    return MemberOut(
        kind=row.kind,
        name=row.name,
        roles=row.roles,  # type: ignore[arg-type]
        added_by=row.added_by,
        added_at=row.added_at,
        updated_at=row.updated_at,
    )


class MemberController(Controller):
    path = "/portfolios/{portfolio_id:uuid}"
    tags = ["members"]

    @get("/members", operation_id="listMembers")
    async def list(self, request: Request, conn: Conn, portfolio_id: FromPath[UUID]) -> list[MemberOut]:
        """The portfolio's members, subjects and groups, each with its roles."""
        return [member_out(row) for row in await access.list_members(conn, caller_of(request), portfolio_id)]

    @put("/members/{subject:str}", operation_id="setMember")
    async def set_subject(
        self,
        request: Request,
        conn: Conn,
        portfolio_id: FromPath[UUID],
        subject: FromPath[str],
        data: JSONBody[MembershipIn],
    ) -> MemberOut:
        """Give a subject (a token's `sub`) these roles on the portfolio."""
        return await _set(request, conn, portfolio_id, "subject", subject, data)

    @delete("/members/{subject:str}", operation_id="removeMember")
    async def remove_subject(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], subject: FromPath[str]
    ) -> None:
        """Take a subject's membership away (409 for the last programme manager)."""
        await access.remove_member(conn, caller_of(request), portfolio_id, kind="subject", name=subject)

    @put("/groups/{group:str}", operation_id="setGroupMember")
    async def set_group(
        self,
        request: Request,
        conn: Conn,
        portfolio_id: FromPath[UUID],
        group: FromPath[str],
        data: JSONBody[MembershipIn],
    ) -> MemberOut:
        """Give everyone in an identity-provider group (the token's groups claim) these roles."""
        return await _set(request, conn, portfolio_id, "group", group, data)

    @delete("/groups/{group:str}", operation_id="removeGroupMember")
    async def remove_group(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], group: FromPath[str]
    ) -> None:
        """Take a group's membership away (409 for the last programme manager)."""
        await access.remove_member(conn, caller_of(request), portfolio_id, kind="group", name=group)


async def _set(
    request: Request, conn: Conn, portfolio_id: UUID, kind: MemberKind, name: str, data: MembershipIn
) -> MemberOut:
    row = await access.set_member(conn, caller_of(request), portfolio_id, kind=kind, name=name, roles=data.roles)
    return member_out(row)
