"""The demo portfolio: seeded once, realistic, and ranked under each of its models."""

from __future__ import annotations

import pytest

from services.scoring.demo import seed_demo
from services.scoring.demo_actuals import DEMO_ACTUALS
from services.scoring.demo_data import DEMO_PORTFOLIO_NAME

pytestmark = pytest.mark.integration


async def test_seeding_twice_creates_one_portfolio(conn):
    first = await seed_demo(conn)
    second = await seed_demo(conn)
    assert first == second
    named = "SELECT count(*) FROM scoring.portfolios WHERE name = $1"
    assert await conn.fetchval(named, DEMO_PORTFOLIO_NAME) == 1
    assert await conn.fetchval("SELECT count(*) FROM scoring.ideas WHERE portfolio_id = $1", first) >= 30


async def test_the_demo_shows_scored_and_unscored_ideas_under_each_model(conn):
    portfolio_id = await seed_demo(conn)
    rows = await conn.fetch(
        """
        SELECT m.name, count(s.score) AS scored, count(*) - count(s.score) AS unscored
        FROM scoring.models m
        JOIN scoring.model_versions v ON v.model_id = m.id
        JOIN scoring.scores s ON s.model_version_id = v.id
        WHERE m.portfolio_id = $1 GROUP BY m.name
        """,
        portfolio_id,
    )
    assert len(rows) == 3
    assert all(row["scored"] >= 25 for row in rows)
    assert sum(row["unscored"] for row in rows) >= 1


async def test_the_demo_has_delivered_ideas_whose_actuals_make_a_calibration_report(conn, client, token_for):
    portfolio_id = await seed_demo(conn)
    await seed_demo(conn)  # a second start records nothing twice
    assert await conn.fetchval(
        "SELECT count(*) FROM scoring.idea_actuals a JOIN scoring.ideas i ON i.id = a.idea_id WHERE i.portfolio_id = $1",
        portfolio_id,
    ) == len(DEMO_ACTUALS)
    viewer = token_for("viewer", subject="demo-viewer")
    report = (await client.get(f"/scoring/portfolios/{portfolio_id}/calibration", headers=viewer)).json()
    assert report["ideas"] == len(DEMO_ACTUALS)
    teams = {team["key"]: team for team in report["teams"]}
    assert teams["web"]["effort"]["median"] > 1.2 and teams["ops"]["effort"]["median"] < 1  # web runs over, ops under
    assert report["kpiTargets"] == {"measured": 6, "reached": 4, "share": 0.6667}
    assert {department["key"] for department in report["departments"]} >= {"Customer Service", "Lending", "Marketing"}
