"""SQL of the shared `access` schema: tenants and their members. Connection first; no transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec

MemberKind = Literal["subject", "group"]


class MemberRow(msgspec.Struct, frozen=True):
    kind: MemberKind
    name: str
    roles: list[str]
    added_by: str
    added_at: datetime
    updated_at: datetime


_MEMBER_COLUMNS = "kind, name, roles, added_by, added_at, updated_at"


def visible_portfolios(column: str, *, first_param: int) -> str:
    """A condition keeping the rows whose `column` is a portfolio the caller is a member of.

    It takes two parameters, numbered from `first_param`: the caller's subject and its groups
    (`text[]`). Lists put it in their own statement, so scoping costs no round trip.
    """
    subject, groups = f"${first_param}", f"${first_param + 1}"
    return (
        f"{column} IN (SELECT m.portfolio_id FROM access.members m "
        f"WHERE (m.kind = 'subject' AND m.name = {subject}) OR (m.kind = 'group' AND m.name = ANY({groups}::text[])))"
    )


def caller_roles_sql(portfolio: str, *, subject: str, groups: str) -> str:
    """An expression: the roles (`text[]`, empty if none) the caller's memberships give on `portfolio`.

    `portfolio` is a column or parameter, `subject` and `groups` the caller's parameters. A read
    selects it beside what it reads, so checking the caller's access costs no round trip of its own.
    """
    return (
        "coalesce((SELECT array_agg(DISTINCT r) FROM access.members m CROSS JOIN unnest(m.roles) AS r "
        f"WHERE m.portfolio_id = {portfolio} AND ((m.kind = 'subject' AND m.name = {subject}) "
        f"OR (m.kind = 'group' AND m.name = ANY({groups}::text[])))), '{{}}'::text[])"
    )


async def caller_roles(
    conn: asyncpg.Connection, portfolio_id: UUID, *, subject: str, groups: Sequence[str]
) -> list[str] | None:
    """The roles the caller's memberships give on the portfolio; None if there is no such portfolio."""
    record = await conn.fetchrow(
        f"SELECT {caller_roles_sql('p.id', subject='$2', groups='$3')} AS roles FROM access.portfolios p WHERE p.id = $1",
        portfolio_id,
        subject,
        list(groups),
    )
    return None if record is None else list(record["roles"])


async def insert_tenant(conn: asyncpg.Connection) -> UUID:
    return await conn.fetchval("INSERT INTO access.portfolios DEFAULT VALUES RETURNING id")


async def lock_tenant(conn: asyncpg.Connection, portfolio_id: UUID) -> bool:
    """Lock a portfolio's membership against concurrent changes; False if there is no such portfolio."""
    found = await conn.fetchval("SELECT true FROM access.portfolios WHERE id = $1 FOR UPDATE", portfolio_id)
    return bool(found)


async def delete_tenant(conn: asyncpg.Connection, portfolio_id: UUID) -> bool:
    """Delete a portfolio and, by the schemas' cascades, everything of every service under it."""
    status = await conn.execute("DELETE FROM access.portfolios WHERE id = $1", portfolio_id)
    return status.endswith(" 1")


async def members(conn: asyncpg.Connection, portfolio_id: UUID) -> list[MemberRow]:
    records = await conn.fetch(
        f"SELECT {_MEMBER_COLUMNS} FROM access.members WHERE portfolio_id = $1 ORDER BY kind DESC, name",
        portfolio_id,
    )
    return [msgspec.convert(dict(record), MemberRow) for record in records]


async def upsert_member(
    conn: asyncpg.Connection, portfolio_id: UUID, *, kind: MemberKind, name: str, roles: list[str], by: str
) -> MemberRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO access.members (portfolio_id, kind, name, roles, added_by) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (portfolio_id, kind, name) DO UPDATE SET roles = EXCLUDED.roles, updated_at = now()
        RETURNING {_MEMBER_COLUMNS}
        """,
        portfolio_id,
        kind,
        name,
        roles,
        by,
    )
    return msgspec.convert(dict(record), MemberRow)


async def delete_member(conn: asyncpg.Connection, portfolio_id: UUID, *, kind: MemberKind, name: str) -> bool:
    status = await conn.execute(
        "DELETE FROM access.members WHERE portfolio_id = $1 AND kind = $2 AND name = $3", portfolio_id, kind, name
    )
    return status.endswith(" 1")
