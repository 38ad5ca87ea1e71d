"""The shared foundation: health, metrics, OpenAPI per service, auth, problem details, migrations."""

from __future__ import annotations

import time

import asyncpg
import jwt
import pytest
from roadmap_fixtures import EDITOR, scenario_body, scored_portfolio

from services.kit import migrate

pytestmark = pytest.mark.integration


async def test_live_and_ready_answer_without_a_token(client):
    live = await client.get("/health/live")
    ready = await client.get("/health/ready")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


async def test_every_response_carries_a_request_id_and_echoes_a_given_one(client):
    generated = await client.get("/health/live")
    echoed = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert len(generated.headers["x-request-id"]) == 32
    assert echoed.headers["x-request-id"] == "abc-123"


async def test_metrics_count_requests_by_route(client, token_for):
    await client.get("/scoring/portfolios", headers=token_for("viewer"))
    body = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/scoring/portfolios",service="scoring",status="200"}' in body


@pytest.mark.parametrize("service", ["scoring", "roadmap", "integrations"])
async def test_each_service_publishes_its_own_openapi_document(client, service):
    response = await client.get(f"/{service}/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"].lower().startswith(service)
    assert all(path.startswith(f"/{service}/") for path in document["paths"])
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


@pytest.mark.parametrize("service", ["scoring", "roadmap", "integrations"])
async def test_every_operation_documents_its_errors_as_problems(client, service):
    document = (await client.get(f"/{service}/schema/openapi.json")).json()
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            public = operation.get("security") == []
            expected = {"4XX", "503"} | (set() if public else {"401", "403"})
            assert expected <= set(responses), (method, path, sorted(responses))
            assert "400" not in responses  # Litestar's own validation body, never what we send
            for status in expected:
                assert list(responses[status]["content"]) == ["application/problem+json"], (method, path, status)
    public = {path for path, item in document["paths"].items() if any(op.get("security") == [] for op in item.values())}
    assert public == ({"/integrations/webhooks/{connection_id}"} if service == "integrations" else set())


async def test_the_csv_import_documents_its_body(client):
    document = (await client.get("/scoring/schema/openapi.json")).json()
    body = document["paths"]["/scoring/portfolios/{portfolio_id}/ideas.csv"]["post"]["requestBody"]
    assert body["required"] is True and body["content"]["text/csv"]["schema"]["type"] == "string"


async def test_a_request_without_a_token_is_a_401_problem(client):
    response = await client.get("/scoring/portfolios")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_expired_token_is_refused(client, auth_settings):
    claims = {"sub": "x", "roles": ["viewer"], "iss": auth_settings.issuer, "aud": auth_settings.audience,
              "exp": int(time.time()) - 10}  # fmt: skip
    token = jwt.encode(claims, auth_settings.signing_key, algorithm="HS256")
    response = await client.get("/scoring/portfolios", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_a_token_signed_with_another_key_is_refused(client, auth_settings):
    claims = {"sub": "x", "roles": ["admin"], "iss": auth_settings.issuer, "aud": auth_settings.audience,
              "exp": int(time.time()) + 60}  # fmt: skip
    token = jwt.encode(claims, "not-the-key-" + "y" * 32, algorithm="HS256")
    response = await client.get("/scoring/portfolios", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_a_token_for_another_audience_is_refused(client, auth_settings):
    claims = {"sub": "x", "roles": ["admin"], "iss": auth_settings.issuer, "aud": "someone-else",
              "exp": int(time.time()) + 60}  # fmt: skip
    token = jwt.encode(claims, auth_settings.signing_key, algorithm="HS256")
    response = await client.get("/scoring/portfolios", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_an_unknown_path_is_a_404_problem(client, token_for):
    response = await client.get("/scoring/nothing-here", headers=token_for("viewer"))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_migrations_go_up_down_and_up_again(make_database):
    url = make_database("migrations")

    async def tables() -> set[str]:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables "
                "WHERE table_schema IN ('scoring', 'roadmap', 'integrations')"
            )
            schemas = await conn.fetch(
                "SELECT nspname FROM pg_namespace WHERE nspname IN ('scoring', 'roadmap', 'integrations')"
            )
            return {row["name"] for row in rows} | {row["nspname"] for row in schemas}
        finally:
            await conn.close()

    import asyncio

    migrate.upgrade(url)
    after_first_upgrade = asyncio.run(tables())
    migrate.downgrade(url, "base")
    after_downgrade = asyncio.run(tables())
    migrate.upgrade(url)
    after_second_upgrade = asyncio.run(tables())
    assert {"scoring", "roadmap", "integrations", "scoring.ideas", "scoring.scores"} <= after_first_upgrade
    assert after_downgrade == set()
    assert after_second_upgrade == after_first_upgrade


async def test_only_the_schema_documents_are_public_not_paths_that_merely_contain_schema(client, token_for):
    editor = token_for("programme_manager")
    portfolio = (await client.post("/scoring/portfolios", json={"name": "P"}, headers=editor)).json()
    await client.post(
        f"/scoring/portfolios/{portfolio['id']}/ideas", json={"ref": "schema", "title": "t"}, headers=editor
    )
    response = await client.get(f"/scoring/portfolios/{portfolio['id']}/ideas/schema")
    assert response.status_code == 401


async def test_metrics_report_the_job_queue(client, token_for):
    editor = token_for(EDITOR)
    scored = await scored_portfolio(client, token_for)
    scenario = (await client.post("/roadmap/scenarios", json=scenario_body(scored), headers=editor)).json()
    for _ in range(2):  # no worker runs here: both stay queued
        assert (
            await client.post(f"/roadmap/scenarios/{scenario['id']}/runs", json={}, headers=editor)
        ).status_code == 202
    body = (await client.get("/metrics")).text
    assert 'jobs_in_queue{entrypoint="roadmap.optimise",status="queued"} 2.0' in body
    assert 'jobs_oldest_queued_age_seconds{entrypoint="roadmap.optimise"}' in body
