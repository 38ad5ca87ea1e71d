"""Jira connections (secrets by reference only), webhook deliveries and the delivery view."""

from __future__ import annotations

import json
import uuid

import pytest

from services.integrations.webhooks import signature_of

pytestmark = pytest.mark.integration

EDITOR = "programme_manager"
SECRET = "webhook-secret-for-tests"
TOKEN = "api-token-value-that-must-never-leak"


@pytest.fixture
def secrets_in_env(monkeypatch):
    monkeypatch.setenv("TEST_JIRA_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_JIRA_WEBHOOK", SECRET)


@pytest.fixture
async def portfolio_id(client, token_for):
    response = await client.post("/scoring/portfolios", json={"name": "Jira-bound"}, headers=token_for(EDITOR))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def connection_body(portfolio_id, **overrides):
    body = {
        "portfolioId": portfolio_id,
        "siteUrl": "https://acme.atlassian.net",
        "projectKey": "CJ",
        "accountEmail": "bot@acme.example",
        "apiTokenRef": "env:TEST_JIRA_TOKEN",
        "webhookSecretRef": "env:TEST_JIRA_WEBHOOK",
        "mapping": {},
    }
    body.update(overrides)
    return body


@pytest.fixture
async def connection(client, token_for, secrets_in_env, portfolio_id):
    body = connection_body(portfolio_id)
    response = await client.post("/integrations/connections", json=body, headers=token_for(EDITOR))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_connection_shows_where_secrets_are_read_from_never_the_secrets(client, member_of, connection):
    assert connection["apiTokenRef"] == "env:TEST_JIRA_TOKEN"
    assert connection["webhookUrl"] == f"/integrations/webhooks/{connection['id']}"
    viewer = await member_of(connection["portfolioId"], "viewer")
    listed = await client.get("/integrations/connections", headers=viewer)
    assert [item["id"] for item in listed.json()] == [connection["id"]]
    assert TOKEN not in listed.text and SECRET not in listed.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"apiTokenRef": TOKEN}, "apiTokenRef"),
        ({"webhookSecretRef": "plain-secret"}, "webhookSecretRef"),
        ({"projectKey": "lower"}, "projectKey"),
        ({"siteUrl": "not a url"}, "siteUrl"),
        ({"apiToken": TOKEN}, "apiToken"),
    ],
)
async def test_a_bad_connection_is_refused_naming_the_field_and_echoing_no_secret(
    client, token_for, conn, portfolio_id, overrides, field
):
    body = connection_body(portfolio_id, **overrides)
    response = await client.post("/integrations/connections", json=body, headers=token_for(EDITOR))
    assert response.status_code in (400, 422), response.text
    assert any(error["field"].startswith(field) for error in response.json()["errors"]), response.json()
    assert TOKEN not in response.text
    count = "SELECT count(*) FROM integrations.connections WHERE portfolio_id = $1"
    assert await conn.fetchval(count, uuid.UUID(portfolio_id)) == 0


@pytest.mark.parametrize("role", ["viewer", "stakeholder", "leader"])
async def test_only_programme_managers_and_delivery_manage_connections(client, member_of, portfolio_id, role):
    headers = await member_of(portfolio_id, role)
    response = await client.post("/integrations/connections", json=connection_body(portfolio_id), headers=headers)
    assert response.status_code == 403


async def link_issue(conn, connection_id, *, key, idea, phase, cost, plan_id):
    await conn.execute(
        """
        INSERT INTO integrations.issue_links (connection_id, kind, item, issue_key, issue_id, label, phase, cost, plan_id)
        VALUES ($1, 'idea', $2, $3, $4, $5, $6, $7, $8)
        """,
        uuid.UUID(connection_id),
        idea,
        key,
        key.split("-")[1],
        f"rmap-{idea}",
        phase,
        cost,
        plan_id,
    )


def delivery(key: str, category: str, identifier: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {"webhookEvent": "jira:issue_updated",
         "issue": {"key": key, "fields": {"status": {"name": category.title(), "statusCategory": {"key": category}}}}}
    ).encode()  # fmt: skip
    headers = {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": identifier,
        "X-Hub-Signature": signature_of(SECRET, body),
    }
    return body, headers


async def test_deliveries_move_tickets_and_the_plans_delivery_view_follows(client, token_for, connection, conn):
    plan_id = uuid.uuid4()
    await link_issue(conn, connection["id"], key="CJ-1", idea="A", phase="improve", cost=10_000, plan_id=plan_id)
    await link_issue(conn, connection["id"], key="CJ-2", idea="B", phase="improve", cost=5_000, plan_id=plan_id)
    await link_issue(conn, connection["id"], key="CJ-3", idea="C", phase="discovery", cost=2_000, plan_id=plan_id)
    url = f"/integrations/webhooks/{connection['id']}"
    for key, category, identifier in (("CJ-1", "done", "d1"), ("CJ-2", "indeterminate", "d2"), ("CJ-1", "done", "d1")):
        body, headers = delivery(key, category, identifier)
        response = await client.post(url, content=body, headers=headers)
        assert response.status_code == 200, response.text
    assert response.json()["duplicate"] is True  # the repeated delivery was dropped
    view = (await client.get(f"/integrations/plans/{plan_id}/delivery", headers=token_for("delivery"))).json()
    assert [p["phase"] for p in view["phases"]] == ["discovery", "improve"]
    improve = view["phases"][1]
    assert (improve["toDo"], improve["inProgress"], improve["done"]) == (0, 1, 1)
    assert improve["budgetDelivered"] == 10_000 and improve["budgetPlanned"] == 15_000
    assert view["ideas"] == 3 and view["done"] == 1


async def test_a_delivery_with_a_bad_signature_changes_nothing(client, connection, conn):
    plan_id = uuid.uuid4()
    await link_issue(conn, connection["id"], key="CJ-9", idea="Z", phase="improve", cost=1, plan_id=plan_id)
    body, headers = delivery("CJ-9", "done", "forged")
    headers["X-Hub-Signature"] = signature_of("guessed", body)
    response = await client.post(f"/integrations/webhooks/{connection['id']}", content=body, headers=headers)
    assert response.status_code == 401 and response.json()["type"].endswith("/bad-signature")
    unsigned = await client.post(
        f"/integrations/webhooks/{connection['id']}", content=body, headers={"X-Atlassian-Webhook-Identifier": "x"}
    )
    assert unsigned.status_code == 401
    assert await conn.fetchval("SELECT status_category FROM integrations.issue_links WHERE issue_key = 'CJ-9'") == "new"
    assert await conn.fetchval("SELECT count(*) FROM integrations.webhook_deliveries") == 0
