"""Test helpers for portfolios as tenants: making and removing them outside the API."""

from __future__ import annotations

import asyncpg


async def drop_portfolio(conn: asyncpg.Connection, portfolio_id: object) -> None:
    """Remove a portfolio a test committed, everything under it in every schema included.

    A decided plan is never deleted (the database refuses), so a test's plans are rejected first.
    """
    async with conn.transaction():
        await conn.execute(
            "UPDATE roadmap.plans SET status = 'rejected' WHERE portfolio_id = $1 AND status <> 'rejected'",
            portfolio_id,
        )
        await conn.execute("DELETE FROM access.portfolios WHERE id = $1", portfolio_id)


async def grant(http, admin_headers: dict[str, str], portfolio_id: object, subject: str, *roles: str) -> None:
    """Make `subject` a member of the portfolio with `roles`, through the API, as an admin."""
    response = await http.put(
        f"/scoring/portfolios/{portfolio_id}/members/{subject}", json={"roles": list(roles)}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
