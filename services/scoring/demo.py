"""Seeding the demo portfolio that `make run` shows a new user."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.scoring import service
from services.scoring.demo_data import DEMO_CURRENCY, DEMO_IDEAS, DEMO_MODELS, DEMO_PORTFOLIO_NAME
from services.scoring.domain import DEFAULT_PHASE_LABELS


async def seed_demo(conn: asyncpg.Connection) -> UUID:
    """Create the demo portfolio once; later calls return the existing one unchanged."""
    async with conn.transaction():
        # One seeder at a time, even if several processes start together.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('roadmap.seed_demo'))")
        existing = await conn.fetchval(
            "SELECT id FROM scoring.portfolios WHERE name = $1 ORDER BY created_at LIMIT 1", DEMO_PORTFOLIO_NAME
        )
        if existing is not None:
            return existing
        portfolio = await service.create_portfolio(
            conn, name=DEMO_PORTFOLIO_NAME, currency=DEMO_CURRENCY, phase_labels=dict(DEFAULT_PHASE_LABELS)
        )
        await service.create_ideas(conn, portfolio.id, DEMO_IDEAS)
        for name, definition in DEMO_MODELS:
            await service.create_model(conn, portfolio.id, name=name, definition=definition, author="demo-seed")
        return portfolio.id
