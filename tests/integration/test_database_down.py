"""When PostgreSQL cannot be reached the services answer 503 problems, not 500s or hangs."""

from __future__ import annotations

import socket

import asyncpg
import httpx
import pytest

from services.kit.db import PoolSource
from services.single_process import create_single_process_app

pytestmark = pytest.mark.integration


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens here once the socket closes


@pytest.fixture
async def unreachable_client(settings):
    # min_size=0: the pool connects on first use, as a running service does after PostgreSQL went away.
    pool = await asyncpg.create_pool(f"postgresql://nobody@127.0.0.1:{closed_port()}/none", min_size=0, max_size=1)
    app = create_single_process_app(settings, source=PoolSource(pool))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http
    await pool.close()


async def test_ready_says_503_while_the_database_is_unreachable(unreachable_client):
    assert (await unreachable_client.get("/health/live")).status_code == 200
    ready = await unreachable_client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.headers["content-type"].startswith("application/problem+json")


async def test_a_request_needing_the_database_gets_a_503_problem(unreachable_client, token_for):
    response = await unreachable_client.get("/scoring/portfolios", headers=token_for("viewer"))
    assert response.status_code == 503
    problem = response.json()
    assert problem["type"].endswith("/service-unavailable") and "did not complete" in problem["detail"]


async def test_an_outage_is_logged_without_a_traceback_per_request(unreachable_client, token_for, caplog):
    # During an outage every request fails the same way; a traceback each would bury the log.
    with caplog.at_level("INFO"):
        response = await unreachable_client.get("/scoring/portfolios", headers=token_for("viewer"))
    assert response.status_code == 503
    assert caplog.records, "the outage was not logged at all"
    assert not [record for record in caplog.records if record.exc_info or "Traceback" in record.getMessage()]
