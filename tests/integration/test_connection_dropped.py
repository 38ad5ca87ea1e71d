"""The database connection dropped in the middle of a request: all of it is written, or none.

A real pool-backed app on its own database; another connection terminates the request's
backend at a range of moments while a bulk create is in flight.
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import msgspec
import pytest

from services.kit import migrate
from services.kit.db import PoolSource
from services.single_process import create_single_process_app

pytestmark = pytest.mark.integration

IDEAS = 400


@pytest.fixture(scope="module")
def dropped_database_url(make_database) -> str:
    url = make_database("dropped")
    migrate.upgrade(url)
    return url


async def terminate_others(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
            """
        )
    finally:
        await conn.close()


async def test_a_bulk_create_cut_off_midway_leaves_all_or_nothing(dropped_database_url, settings, token_for):
    settings = msgspec.structs.replace(settings, database_url=dropped_database_url, db_pool_min=1, db_pool_max=2)
    source = await PoolSource.open(settings)
    app = create_single_process_app(settings, source=source, run_jobs=False)
    editor = token_for("programme_manager")
    outcomes = []
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=60) as http:
            portfolio = (await http.post("/scoring/portfolios", json={"name": "Cut"}, headers=editor)).json()
            url = f"/scoring/portfolios/{portfolio['id']}"
            model = {"name": "RICE", "definition": {"kind": "rice"}}
            assert (await http.post(f"{url}/models", json=model, headers=editor)).status_code == 201
            for attempt, delay in enumerate((0.0, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.6)):
                ideas = [
                    {"ref": f"T{attempt}-{n}", "title": "x", "estimates": {"reach": 1, "customerImpact": 1,
                                                                      "confidence": 1, "effort": {"web": 1}}}
                    for n in range(IDEAS)
                ]  # fmt: skip
                request = asyncio.create_task(http.post(f"{url}/ideas/bulk", json={"ideas": ideas}, headers=editor))
                await asyncio.sleep(delay)
                await terminate_others(dropped_database_url)
                response = await request
                conn = await asyncpg.connect(dropped_database_url)
                try:
                    written = await conn.fetchval(
                        "SELECT count(*) FROM scoring.ideas WHERE ref LIKE $1", f"T{attempt}-%"
                    )
                    scored = await conn.fetchval(
                        "SELECT count(*) FROM scoring.scores WHERE ref LIKE $1", f"T{attempt}-%"
                    )
                finally:
                    await conn.close()
                outcomes.append(response.status_code)
                assert written in (0, IDEAS) and scored == written, (delay, response.status_code, written, scored)
                if response.status_code == 201:
                    assert written == IDEAS
                else:
                    assert response.status_code == 503, response.text
                    assert response.headers["content-type"].startswith("application/problem+json")
            # The pool recovers by itself once the database answers again.
            ready = await http.get("/health/ready")
            assert ready.status_code == 200
    finally:
        await source.close()
    assert 503 in outcomes  # at least one request really was cut off
