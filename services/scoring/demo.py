"""Seeding the demo portfolio that `make run` shows a new user."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from services.kit.access import repository as access_repository
from services.kit.access.rights import PortfolioRole
from services.kit.auth import Caller, Role
from services.scoring import models_service, ratings_repository, service
from services.scoring.demo_actuals import seed_demo_actuals
from services.scoring.demo_data import DEMO_CURRENCY, DEMO_IDEAS, DEMO_MODELS, DEMO_PORTFOLIO_NAME
from services.scoring.demo_voices import DEMO_DEPARTMENTS, DEMO_KPIS, DEMO_STAKEHOLDER_MODEL, demo_ratings, owner_of
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
        conn,
        caller,
        name=DEMO_PORTFOLIO_NAME,
        currency=DEMO_CURRENCY,
        phase_labels=dict(DEFAULT_PHASE_LABELS),
        departments=DEMO_DEPARTMENTS,
    )
    ideas = [
        msgspec.structs.replace(
            idea, owner=owner_of(idea.ref, idea.journey.department), kpis=DEMO_KPIS.get(idea.ref, ())
        )
        for idea in DEMO_IDEAS
    ]
    rows = {row.ref: row for row in await service.create_ideas(conn, caller, portfolio.id, ideas)}
    # The workshop's ratings go in before the models, which score every idea with its ratings.
    for ref, criterion, subject, department, value in demo_ratings():
        await ratings_repository.upsert_rating(
            conn,
            portfolio_id=portfolio.id,
            idea_id=rows[ref].id,
            criterion=criterion,
            subject=subject,
            department=department,
            value=value,
            comment="",
        )
    for name, definition in (*DEMO_MODELS, DEMO_STAKEHOLDER_MODEL):
        await models_service.create_model(conn, caller, portfolio.id, name=name, definition=definition)
    return portfolio.id
