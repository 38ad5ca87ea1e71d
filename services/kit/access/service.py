"""The access checks every use case starts with, and the management of a portfolio's members.

`require_access` is the one way to a `PortfolioAccess`: a use case that touches a portfolio
asks for one with the right it needs. A caller who is not a member gets the same 404 as for
a portfolio that does not exist, so ids cannot be probed; a member without the right gets a
403 naming the roles that would allow it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from uuid import UUID

import asyncpg

from services.kit.access import repository
from services.kit.access.repository import MemberKind, MemberRow
from services.kit.access.rights import (
    MANAGE,
    READ,
    PortfolioAccess,
    PortfolioRole,
    Right,
    ordered,
    parse_roles,
)
from services.kit.auth import Caller, Role
from services.kit.problems import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound

MAX_NAME_LENGTH = 255


def is_admin(caller: Caller) -> bool:
    return Role.ADMIN in caller.roles


async def require_access(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, right: Right, *, missing: str | None = None
) -> PortfolioAccess:
    """The caller's access to a portfolio, if it allows `right`.

    `missing` is the 404's message: the same words a use case says for a record that does not
    exist, since to a non-member the portfolio's records do not.
    """
    found = await repository.caller_roles(conn, portfolio_id, subject=caller.subject, groups=sorted(caller.groups))
    return grant(caller, portfolio_id, found, right, missing=missing)


def grant(
    caller: Caller, portfolio_id: UUID, found: Sequence[str] | None, right: Right, *, missing: str | None = None
) -> PortfolioAccess:
    """`require_access` for roles already read (`found`: None when there is no such portfolio).

    A hot read selects the caller's roles in its own statement (repository.caller_roles_sql,
    with the parameters of `caller_params`) and decides here, with the same 404 and 403.
    """
    admin = is_admin(caller)
    if found is None or (not found and not admin):
        raise NotFound(missing or f"There is no portfolio {portfolio_id}.")
    access = PortfolioAccess(
        portfolio_id=portfolio_id,
        subject=caller.subject,
        roles=frozenset(PortfolioRole(role) for role in found if role in PortfolioRole._value2member_map_),
        admin=admin,
    )
    check(access, right)
    return access


def caller_params(caller: Caller) -> tuple[str, list[str]]:
    """The subject and groups that caller_roles_sql's parameters take."""
    return caller.subject, sorted(caller.groups)


def check(access: PortfolioAccess, right: Right) -> None:
    """Forbidden unless `access` allows `right`."""
    if access.allows(right):
        return
    needed = " or ".join(ordered(right.roles))
    held = ", ".join(ordered(access.roles)) or "none"
    raise Forbidden(f"To {right.action} you need the role {needed} on it; your roles there: {held}.")


def scope_of(caller: Caller) -> tuple[str, list[str]] | None:
    """What a list is scoped by: the caller's subject and groups, or None for an admin (sees all)."""
    return None if is_admin(caller) else (caller.subject, sorted(caller.groups))


# --- tenants ----------------------------------------------------------------------------


async def create_tenant(conn: asyncpg.Connection, caller: Caller) -> UUID:
    """A new portfolio's tenant, with its creator as its first programme manager."""
    if not caller.roles & {Role.PROGRAMME_MANAGER, Role.ADMIN}:
        raise Forbidden("Creating a portfolio needs a token with the role programme_manager or admin.")
    portfolio_id = await repository.insert_tenant(conn)
    await repository.upsert_member(
        conn,
        portfolio_id,
        kind="subject",
        name=_checked_name(caller.subject, "sub"),
        roles=[PortfolioRole.PROGRAMME_MANAGER.value],
        by=caller.subject,
    )
    return portfolio_id


async def delete_tenant(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID) -> None:
    """Delete a portfolio and everything under it, in every service; never a decided plan.

    The roadmap schema refuses to lose a submitted or approved plan (a trigger), so the check
    holds however the deletion reaches the plans; its error lists them.
    """
    await require_access(conn, caller, portfolio_id, MANAGE)
    try:
        async with conn.transaction():
            await repository.delete_tenant(conn, portfolio_id)
    except asyncpg.RestrictViolationError as exc:
        plans = _decided_plans(exc)
        raise Conflict(
            f"The portfolio has {len(plans)} submitted or approved plan(s); they are decisions on record, "
            "so the portfolio is kept.",
            errors=[
                FieldProblem(field="plans", message=f"plan {plan['id']} ({plan['name']!r}) is {plan['status']}")
                for plan in plans
            ],
        ) from None


def _decided_plans(exc: asyncpg.RestrictViolationError) -> list[dict[str, str]]:
    try:
        plans = json.loads(exc.detail or "[]")
    except ValueError:
        return []
    return [plan for plan in plans if isinstance(plan, dict)]


# --- members ----------------------------------------------------------------------------


async def list_members(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID) -> list[MemberRow]:
    await require_access(conn, caller, portfolio_id, READ)
    return await repository.members(conn, portfolio_id)


async def set_member(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, *, kind: MemberKind, name: str, roles: Iterable[str]
) -> MemberRow:
    """Give a subject or group exactly these roles on the portfolio (replacing any it had)."""
    await require_access(conn, caller, portfolio_id, MANAGE)
    name = _checked_name(name, kind)
    try:
        wanted = parse_roles(roles)
    except ValueError as exc:
        raise InvalidInput(f"roles: {exc}", errors=[FieldProblem(field="roles", message=str(exc))]) from None
    if not wanted:
        message = "give at least one role; to remove a member, DELETE it"
        raise InvalidInput(f"roles: {message}", errors=[FieldProblem(field="roles", message=message)])
    await repository.lock_tenant(conn, portfolio_id)
    if PortfolioRole.PROGRAMME_MANAGER not in wanted:
        await _keep_a_programme_manager(conn, portfolio_id, kind=kind, name=name)
    return await repository.upsert_member(
        conn, portfolio_id, kind=kind, name=name, roles=ordered(wanted), by=caller.subject
    )


async def remove_member(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, *, kind: MemberKind, name: str
) -> None:
    await require_access(conn, caller, portfolio_id, MANAGE)
    await repository.lock_tenant(conn, portfolio_id)
    await _keep_a_programme_manager(conn, portfolio_id, kind=kind, name=name)
    if not await repository.delete_member(conn, portfolio_id, kind=kind, name=name):
        raise NotFound(f"The {kind} {name!r} is not a member of this portfolio.")


async def _keep_a_programme_manager(
    conn: asyncpg.Connection, portfolio_id: UUID, *, kind: MemberKind, name: str
) -> None:
    """Conflict if the member `kind`/`name` is the portfolio's last programme manager.

    Call with the portfolio locked, so two removals at once cannot both pass.
    """
    members = await repository.members(conn, portfolio_id)
    manager = PortfolioRole.PROGRAMME_MANAGER.value
    target = next((m for m in members if (m.kind, m.name) == (kind, name)), None)
    if (
        target is not None
        and manager in target.roles
        and not any(manager in m.roles for m in members if m is not target)
    ):
        raise Conflict(
            f"The {kind} {name!r} is this portfolio's last programme manager; make someone else one first.",
            errors=[FieldProblem(field="roles", message="a portfolio keeps at least one programme manager")],
        )


def _checked_name(name: str, what: str) -> str:
    if not name or len(name) > MAX_NAME_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        message = f"a {what} is 1 to {MAX_NAME_LENGTH} characters without control characters"
        raise InvalidInput(f"{what}: {message}", errors=[FieldProblem(field=what, message=message)])
    return name
