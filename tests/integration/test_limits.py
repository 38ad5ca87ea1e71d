"""Limits, each refused with a clear 4xx that names what is too big, and nothing written."""

from __future__ import annotations

import pytest

from services.roadmap.scenarios.domain import MAX_IDEAS_PER_SCENARIO, MAX_TIME_LIMIT_SECONDS
from services.scoring.service import MAX_IDEAS_PER_PORTFOLIO

pytestmark = pytest.mark.integration

EDITOR = "programme_manager"


async def test_a_full_portfolio_takes_no_more_ideas(client, token_for, conn):
    portfolio = (await client.post("/scoring/portfolios", json={"name": "Full"}, headers=token_for(EDITOR))).json()
    # Filled straight in SQL: a hundred thousand requests would test the clock, not the limit.
    await conn.execute(
        """
        INSERT INTO scoring.ideas (portfolio_id, ref, title, phases)
        SELECT $1, 'F-' || n, 'Filler ' || n, '{improve}' FROM generate_series(1, $2) AS n
        """,
        portfolio["id"],
        MAX_IDEAS_PER_PORTFOLIO,
    )
    response = await client.post(
        f"/scoring/portfolios/{portfolio['id']}/ideas",
        json={"ref": "ONE-MORE", "title": "x"},
        headers=token_for(EDITOR),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "ideas"
    assert await conn.fetchval("SELECT count(*) FROM scoring.ideas WHERE ref = 'ONE-MORE'") == 0


async def new_portfolio(client, token_for) -> str:
    response = await client.post("/scoring/portfolios", json={"name": "Limits"}, headers=token_for(EDITOR))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_a_scenario_with_too_many_ideas_is_refused(client, token_for, conn):
    document = {
        "name": "Too big",
        "phases": [{"key": "improve", "budget": 10}],
        "ideas": [{"id": f"I{n}", "value": 1, "cost": 1} for n in range(MAX_IDEAS_PER_SCENARIO + 1)],
    }
    response = await client.post(
        "/roadmap/scenarios/import",
        json={"portfolioId": await new_portfolio(client, token_for), "document": document},
        headers=token_for(EDITOR),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "document.ideas"
    assert await conn.fetchval("SELECT count(*) FROM roadmap.scenarios WHERE name = 'Too big'") == 0


async def test_a_solver_time_beyond_the_limit_is_refused(client, token_for, conn):
    document = {
        "name": "Slow",
        "phases": [{"key": "improve", "budget": 10}],
        "ideas": [{"id": "I", "value": 1, "cost": 1}],
        "solver": {"timeLimitSeconds": MAX_TIME_LIMIT_SECONDS + 1},
    }
    response = await client.post(
        "/roadmap/scenarios/import",
        json={"portfolioId": await new_portfolio(client, token_for), "document": document},
        headers=token_for(EDITOR),
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "document.solver.timeLimitSeconds"
