"""Portfolio roles and the rights they give: pure rules, no I/O.

A caller's rights on a portfolio are the roles its memberships give there (its own subject's
and its groups'). The token's `admin` role is global: every right on every portfolio.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from uuid import UUID

import msgspec


class PortfolioRole(enum.StrEnum):
    VIEWER = "viewer"
    STAKEHOLDER = "stakeholder"
    PROGRAMME_MANAGER = "programme_manager"
    LEADER = "leader"
    DELIVERY = "delivery"


ADMIN = "admin"

# The order a role is named in when several would allow an action: the audit trail records
# the one that allowed it, so the most specific comes first.
_NAMING_ORDER = (
    PortfolioRole.PROGRAMME_MANAGER,
    PortfolioRole.LEADER,
    PortfolioRole.DELIVERY,
    PortfolioRole.STAKEHOLDER,
    PortfolioRole.VIEWER,
)


class Right(msgspec.Struct, frozen=True):
    """Something a caller may do on a portfolio, and the roles that allow it."""

    action: str
    roles: frozenset[PortfolioRole]


READ = Right("read this portfolio", frozenset(PortfolioRole))
PLAN = Right(
    "change this portfolio's backlog, models, scenarios and plans", frozenset({PortfolioRole.PROGRAMME_MANAGER})
)
DECIDE = Right("decide this portfolio's phase budgets", frozenset({PortfolioRole.LEADER}))
DELIVER = Right(
    "connect this portfolio to Jira and push its plans",
    frozenset({PortfolioRole.PROGRAMME_MANAGER, PortfolioRole.DELIVERY}),
)
RATE = Right("rate this portfolio's ideas for a department", frozenset({PortfolioRole.STAKEHOLDER}))
MANAGE = Right("manage this portfolio's members or delete it", frozenset({PortfolioRole.PROGRAMME_MANAGER}))


class PortfolioAccess(msgspec.Struct, frozen=True):
    """What one caller may do on one portfolio: proof that the membership was checked."""

    portfolio_id: UUID
    subject: str
    roles: frozenset[PortfolioRole]
    admin: bool

    def allows(self, right: Right) -> bool:
        return self.admin or not self.roles.isdisjoint(right.roles)

    def role_allowing(self, right: Right) -> str:
        """The role to record as having allowed `right`: a membership role, else `admin`."""
        for role in _NAMING_ORDER:
            if role in self.roles and role in right.roles:
                return role.value
        return ADMIN


def parse_roles(values: Iterable[str]) -> frozenset[PortfolioRole]:
    """Portfolio roles from their names; ValueError naming the first unknown one."""
    roles = set()
    for value in values:
        if value not in PortfolioRole._value2member_map_:
            known = ", ".join(role.value for role in PortfolioRole)
            raise ValueError(f"unknown role {value!r}; the roles are: {known}")
        roles.add(PortfolioRole(value))
    return frozenset(roles)


def ordered(roles: Iterable[PortfolioRole]) -> list[str]:
    """Role names in the order the API lists them."""
    present = set(roles)
    return [role.value for role in PortfolioRole if role in present]
