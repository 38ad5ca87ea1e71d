"""A run's summary is stored with its result (migration 0026; issue 14): polling a run reads it
instead of looking into the whole result document. Whoever writes a result, and however, the
summary must say what the result says; and the upgrade must summarise the results already there.
"""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec
import pytest

from services.kit import migrate
from services.roadmap.scenarios import repository

pytestmark = pytest.mark.integration

RESULT = {
    "status": "feasible",
    "objective": 17.041,
    "bestBound": 17.1385,
    "gap": 0.0057,
    "assignments": [{"idea": "A"}] * 500,
}
EXPECTED = {"status": "feasible", "objective": 17.041, "bestBound": 17.1385, "gap": 0.0057,
            "objectiveWithPenalty": None, "penalty": None}  # fmt: skip


async def runs_before_summaries(url: str) -> dict[str, str]:
    """An optimisation with a result, a frontier with one, and a queued optimisation."""
    conn = await asyncpg.connect(url)
    try:
        portfolio = await conn.fetchval("INSERT INTO access.portfolios DEFAULT VALUES RETURNING id")
        scenario = await conn.fetchval(
            "INSERT INTO roadmap.scenarios (portfolio_id, name, source, document, fingerprint, created_by) "
            "VALUES ($1, 'S', '{}', '{}', 'f', 't') RETURNING id",
            portfolio,
        )
        add = (
            "INSERT INTO roadmap.runs (scenario_id, kind, status, document, input_fingerprint, result, created_by) "
            "VALUES ($1, $2, $3, '{}', 'f', $4::jsonb, 't') RETURNING id::text"
        )
        return {
            "optimise": await conn.fetchval(
                add, scenario, "optimise", "succeeded", msgspec.json.encode(RESULT).decode()
            ),
            "frontier": await conn.fetchval(add, scenario, "frontier", "succeeded", '{"points": []}'),
            "queued": await conn.fetchval(add, scenario, "optimise", "queued", None),
        }
    finally:
        await conn.close()


async def summaries(url: str, runs: dict[str, str], *, then: str | None = None) -> dict[str, object]:
    conn = await asyncpg.connect(url)
    try:
        await conn.set_type_codec("jsonb", encoder=str, decoder=msgspec.json.decode, schema="pg_catalog")
        if then:
            await conn.execute(then, runs["optimise"])
        found = {}
        for name, run_id in runs.items():
            row = await repository.get_run(conn, run_id)
            assert row is not None
            found[name] = row.summary
        return found
    finally:
        await conn.close()


def test_a_runs_summary_says_what_its_result_says_however_it_was_written(make_database):
    url = make_database("run_summaries")
    migrate.upgrade(url, "0025")
    runs = asyncio.run(runs_before_summaries(url))
    migrate.upgrade(url)
    assert asyncio.run(summaries(url, runs)) == {"optimise": EXPECTED, "frontier": None, "queued": None}

    rewritten = 'UPDATE roadmap.runs SET result = result || \'{"status": "optimal", "gap": 0}\' WHERE id = $1'
    after = asyncio.run(summaries(url, runs, then=rewritten))
    assert after["optimise"] == {**EXPECTED, "status": "optimal", "gap": 0}
    # The summary is not written on its own: it always follows the result.
    forged = 'UPDATE roadmap.runs SET summary = \'{"status": "optimal"}\' WHERE id = $1'
    assert asyncio.run(summaries(url, runs, then=forged))["optimise"] == after["optimise"]
    cleared = "UPDATE roadmap.runs SET result = NULL, status = 'queued' WHERE id = $1"
    assert asyncio.run(summaries(url, runs, then=cleared))["optimise"] is None
