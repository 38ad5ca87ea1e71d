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
    counts = {row["name"]: (row["scored"], row["unscored"]) for row in rows}
    assert set(counts) == {"RICE", "WSJF", "Customer value", "Stakeholder voices"}
    assert all(counts[name][0] >= 25 for name in ("RICE", "WSJF", "Customer value"))
    assert sum(counts[name][1] for name in ("RICE", "WSJF", "Customer value")) >= 1
    # The workshop rated the Improve candidates only: the others wait for ratings.
    assert counts["Stakeholder voices"][0] >= 8


async def test_the_demo_has_owners_kpis_and_ratings_from_four_departments(conn):
    portfolio_id = await seed_demo(conn)
    ideas = await conn.fetch("SELECT ref, owner, kpis FROM scoring.ideas WHERE portfolio_id = $1", portfolio_id)
    assert sum(idea["owner"] is not None for idea in ideas) >= 30
    assert {idea["ref"] for idea in ideas if idea["owner"] is None} == {"CJ-33", "CJ-36"}
    assert sum(bool(idea["kpis"]) for idea in ideas) >= 10
    departments = await conn.fetchval(
        "SELECT count(DISTINCT department) FROM scoring.ratings WHERE portfolio_id = $1", portfolio_id
    )
    assert departments >= 4
    disagreeing = await conn.fetchval(
        """
        SELECT count(*) FROM scoring.scores s JOIN scoring.model_versions v ON v.id = s.model_version_id
        JOIN scoring.models m ON m.id = v.model_id
        WHERE m.portfolio_id = $1 AND m.name = 'Stakeholder voices' AND s.disagreement >= 4
        """,
        portfolio_id,
    )
    assert disagreeing >= 3


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
