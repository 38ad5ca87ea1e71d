"""The portfolio rights each role gives, and the role an audit trail names: pure rules."""

from __future__ import annotations

import uuid

import pytest

from services.kit.access.rights import (
    DECIDE,
    DELIVER,
    MANAGE,
    PLAN,
    RATE,
    READ,
    PortfolioAccess,
    PortfolioRole,
    parse_roles,
)

pytestmark = pytest.mark.unit


def access(*roles: str, admin: bool = False) -> PortfolioAccess:
    return PortfolioAccess(portfolio_id=uuid.uuid4(), subject="s", roles=parse_roles(roles), admin=admin)


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (("viewer",), {"read"}),
        (("stakeholder",), {"read", "rate"}),
        (("programme_manager",), {"read", "plan", "deliver", "manage"}),
        (("leader",), {"read", "decide"}),
        (("delivery",), {"read", "deliver"}),
        ((), set()),
    ],
)
def test_each_role_gives_exactly_its_rights(roles, allowed):
    rights = {"read": READ, "plan": PLAN, "decide": DECIDE, "deliver": DELIVER, "manage": MANAGE, "rate": RATE}
    assert {name for name, right in rights.items() if access(*roles).allows(right)} == allowed


def test_an_admin_may_do_everything_and_is_named_only_when_no_role_allowed_it():
    assert all(access(admin=True).allows(right) for right in (READ, PLAN, DECIDE, DELIVER, MANAGE, RATE))
    assert access(admin=True).role_allowing(DECIDE) == "admin"
    assert access("leader", admin=True).role_allowing(DECIDE) == "leader"
    assert access("viewer", "programme_manager").role_allowing(READ) == "programme_manager"


def test_unknown_role_names_are_refused():
    with pytest.raises(ValueError, match="unknown role 'owner'"):
        parse_roles(["viewer", "owner"])
    assert parse_roles(["viewer", "viewer"]) == {PortfolioRole.VIEWER}
