"""Seeding the demo portfolio that `make run` shows a new user."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.kit.access import repository as access_repository
from services.kit.access.rights import PortfolioRole
from services.kit.auth import Caller, Role
from services.scoring import service
from services.scoring.demo_actuals import seed_demo_actuals
from services.scoring.demo_data import DEMO_CURRENCY, DEMO_IDEAS, DEMO_MODELS, DEMO_PORTFOLIO_NAME
from services.scoring.domain import DEFAULT_PHASE_LABELS

# The development tokens `roadmap serve --seed-demo` prints are for the subjects `demo-<role>`;
# each is a member of the demo portfolio with that role, so every printed request works.
DEMO_PROGRAMME_MANAGER = Caller(subject="demo-programme_manager", roles=frozenset({Role.PROGRAMME_MANAGER}))
DEMO_MEMBERS = {f"demo-{role.value}": role for role in PortfolioRole}


def demo_subject(role: str) -> str:
    """The subject of the development token for `role`."""
    return f"demo-{role}"


async def seed_demo(conn: asyncpg.Connection) -> UUID:
    """Create the demo portfolio once, and make the development subjects its members.

    Later calls return the existing portfolio, its backlog unchanged, and give any missing
    development subject back its membership.
    """
    async with conn.transaction():
        # One seeder at a time, even if several processes start together.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('roadmap.seed_demo'))")
        portfolio_id = await conn.fetchval(
            "SELECT id FROM scoring.portfolios WHERE name = $1 ORDER BY created_at LIMIT 1", DEMO_PORTFOLIO_NAME
        )
        if portfolio_id is None:
            portfolio_id = await _create(conn)
        for subject, role in DEMO_MEMBERS.items():
            await access_repository.upsert_member(
                conn, portfolio_id, kind="subject", name=subject, roles=[role.value], by="demo-seed"
            )
        await seed_demo_actuals(conn, DEMO_PROGRAMME_MANAGER, portfolio_id)
        return portfolio_id


async def _create(conn: asyncpg.Connection) -> UUID:
    caller = DEMO_PROGRAMME_MANAGER
    portfolio = await service.create_portfolio(
        conn, caller, name=DEMO_PORTFOLIO_NAME, currency=DEMO_CURRENCY, phase_labels=dict(DEFAULT_PHASE_LABELS)
    )
    await service.create_ideas(conn, caller, portfolio.id, DEMO_IDEAS)
    for name, definition in DEMO_MODELS:
        await service.create_model(conn, caller, portfolio.id, name=name, definition=definition)
    return portfolio.id
