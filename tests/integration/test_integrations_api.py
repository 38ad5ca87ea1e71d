"""Jira connections (secrets by reference only, checked against the stand-in Jira), webhook
deliveries (signed, fresh, once per connection, in event order) and the delivery view."""

from __future__ import annotations

import json
import time
import uuid

import msgspec
import pytest

from services.integrations.webhooks import signature_of

pytestmark = pytest.mark.integration

EDITOR = "programme_manager"
SECRET = "webhook-secret-for-tests"
TOKEN_VARIABLE, WEBHOOK_VARIABLE = "ROADMAP_SECRET_TEST_JIRA_TOKEN", "ROADMAP_SECRET_TEST_JIRA_WEBHOOK"


@pytest.fixture
def settings(settings, jira):
    """The app of these tests reaches the stand-in Jira, the operator's one named exception."""
    return msgspec.structs.replace(settings, outbound_allowed_hosts=(jira.host,))


@pytest.fixture
def secrets_in_env(monkeypatch, jira):
    monkeypatch.setenv(TOKEN_VARIABLE, jira.auth[1])
    monkeypatch.setenv(WEBHOOK_VARIABLE, SECRET)
    return jira.auth[1]


async def new_portfolio(client, token_for) -> str:
    response = await client.post("/scoring/portfolios", json={"name": "Jira-bound"}, headers=token_for(EDITOR))
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
async def portfolio_id(client, token_for):
    return await new_portfolio(client, token_for)


@pytest.fixture
def body_for(jira, portfolio_id):
    def connection_body(**overrides):
        body = {
            "portfolioId": portfolio_id,
            "siteUrl": jira.base_url,
            "projectKey": "PROJ",
            "accountEmail": jira.auth[0],
            "apiTokenRef": f"env:{TOKEN_VARIABLE}",
            "webhookSecretRef": f"env:{WEBHOOK_VARIABLE}",
            "mapping": {},
        }
        body.update(overrides)
        return body

    return connection_body


@pytest.fixture
async def connection(client, token_for, secrets_in_env, body_for):
    response = await client.post("/integrations/connections", json=body_for(), headers=token_for(EDITOR))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_connection_shows_where_secrets_are_read_from_never_the_secrets(
    client, member_of, connection, secrets_in_env
):
    assert connection["apiTokenRef"] == f"env:{TOKEN_VARIABLE}"
    assert connection["webhookUrl"] == f"/integrations/webhooks/{connection['id']}"
    viewer = await member_of(connection["portfolioId"], "viewer")
    listed = await client.get("/integrations/connections", headers=viewer)
    assert [item["id"] for item in listed.json()] == [connection["id"]]
    assert secrets_in_env not in listed.text and SECRET not in listed.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"apiTokenRef": "TOKEN-VALUE"}, "apiTokenRef"),
        ({"webhookSecretRef": "plain-secret"}, "webhookSecretRef"),
        ({"projectKey": "lower"}, "projectKey"),
        ({"siteUrl": "not a url"}, "siteUrl"),
        ({"apiToken": "TOKEN-VALUE"}, "apiToken"),
        ({"projectKey": "NOPE"}, "projectKey"),  # Jira has no such project
        ({"mapping": {"epicIssueType": "Saga"}}, "mapping.epicIssueType"),  # nor such an issue type
        ({"mapping": {"ideaIssueType": "Subtask"}}, "mapping.ideaIssueType"),  # a subtask cannot be an epic's child
        ({"mapping": {"ideaIssueType": "Epic"}}, "mapping.ideaIssueType"),
        ({"mapping": {"labels": ["rmap-mine"]}}, "mapping.labels"),
        ({"apiTokenRef": "env:ROADMAP_SECRET_NOT_SET_ANYWHERE"}, "apiTokenRef"),
        ({"accountEmail": "someone.else@example.com"}, "apiTokenRef"),  # Jira refuses these credentials
    ],
)
async def test_a_bad_connection_is_refused_naming_the_field_and_echoing_no_secret(
    client, token_for, conn, secrets_in_env, body_for, portfolio_id, overrides, field
):
    response = await client.post("/integrations/connections", json=body_for(**overrides), headers=token_for(EDITOR))
    assert response.status_code in (400, 422), response.text
    assert any(error["field"].startswith(field) for error in response.json()["errors"]), response.json()
    assert secrets_in_env not in response.text
    count = "SELECT count(*) FROM integrations.connections WHERE portfolio_id = $1"
    assert await conn.fetchval(count, uuid.UUID(portfolio_id)) == 0


async def test_creating_a_connection_asks_jira_who_the_credentials_are_the_project_and_its_issue_types(
    client, token_for, jira, connection
):
    assert {"getCurrentUser", "getProject", "getCreateIssueMetaIssueTypes"} <= set(jira.calls)


async def test_a_change_is_checked_against_jira_and_a_refused_one_changes_nothing(client, token_for, connection, jira):
    url = f"/integrations/connections/{connection['id']}"
    asked = sum(jira.calls.values())
    for change, field in (
        ({"mapping": {"epicIssueType": "Saga"}}, "mapping.epicIssueType"),
        ({"apiTokenRef": "env:ROADMAP_JWT_SECRET"}, "apiTokenRef"),
        ({"accountEmail": "intruder@example.com"}, "apiTokenRef"),
    ):
        refused = await client.patch(url, json=change, headers=token_for(EDITOR))
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, refused.text
    assert sum(jira.calls.values()) > asked  # the changes were put to Jira
    assert (await client.get(url, headers=token_for(EDITOR))).json() == connection
    changed = await client.patch(url, json={"mapping": {"ideaIssueType": "Story"}}, headers=token_for(EDITOR))
    assert changed.status_code == 200 and changed.json()["mapping"] == {"ideaIssueType": "Story"}


@pytest.mark.parametrize("role", ["viewer", "stakeholder", "leader"])
async def test_only_programme_managers_and_delivery_manage_connections(client, member_of, body_for, jira, role):
    headers = await member_of(body_for()["portfolioId"], role)
    response = await client.post("/integrations/connections", json=body_for(), headers=headers)
    assert response.status_code == 403
    assert sum(jira.calls.values()) == 0  # refused before anything is asked of Jira


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


def delivery(
    key: str,
    category: str,
    identifier: str,
    *,
    at_ms: int | None = None,
    secret: str = SECRET,
    payload: dict | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A signed `jira:issue_updated` delivery for an issue now in `category`, its event at `at_ms` (default: now)."""
    body = json.dumps(payload or {
        "timestamp": int(time.time() * 1000) if at_ms is None else at_ms,
        "webhookEvent": "jira:issue_updated",
        "issue": {"key": key, "fields": {"status": {"name": category.title(), "statusCategory": {"key": category}}}},
    }).encode()  # fmt: skip
    headers = {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": identifier,
        "X-Hub-Signature": signature_of(secret, body),
    }
    return body, headers


async def status_of(conn, key: str) -> str:
    return await conn.fetchval("SELECT status_category FROM integrations.issue_links WHERE issue_key = $1", key)


async def test_deliveries_move_tickets_and_the_plans_delivery_view_follows(client, token_for, connection, conn):
    plan_id = uuid.uuid4()
    await link_issue(conn, connection["id"], key="CJ-1", idea="A", phase="improve", cost=10_000, plan_id=plan_id)
    await link_issue(conn, connection["id"], key="CJ-2", idea="B", phase="improve", cost=5_000, plan_id=plan_id)
    await link_issue(conn, connection["id"], key="CJ-3", idea="C", phase="discovery", cost=2_000, plan_id=plan_id)
    url = f"/integrations/webhooks/{connection['id']}"
    now = int(time.time() * 1000)
    for key, category, identifier in (("CJ-1", "done", "d1"), ("CJ-2", "indeterminate", "d2"), ("CJ-1", "done", "d1")):
        body, headers = delivery(key, category, identifier, at_ms=now)
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
    assert await status_of(conn, "CJ-9") == "new"
    assert await conn.fetchval("SELECT count(*) FROM integrations.webhook_deliveries") == 0


async def test_a_delivery_that_cannot_be_verified_gets_one_answer_whatever_the_reason(client, connection, conn):
    # Told apart, the answers would say which connections exist and which secrets are readable.
    body, headers = delivery("CJ-9", "done", "x1", secret="guessed")
    wrong_signature = await client.post(f"/integrations/webhooks/{connection['id']}", content=body, headers=headers)
    unknown = await client.post(f"/integrations/webhooks/{uuid.uuid4()}", content=body, headers=headers)
    await conn.execute(
        "UPDATE integrations.connections SET webhook_secret_ref = 'env:ROADMAP_SECRET_UNSET_HERE' WHERE id = $1",
        uuid.UUID(connection["id"]),
    )
    body, headers = delivery("CJ-9", "done", "x2")  # signed with the secret the reference used to name
    unreadable = await client.post(f"/integrations/webhooks/{connection['id']}", content=body, headers=headers)
    await conn.execute(
        "UPDATE integrations.connections SET webhook_secret_ref = 'env:ROADMAP_JWT_SECRET' WHERE id = $1",
        uuid.UUID(connection["id"]),
    )  # stored under older rules: refused as it is used
    outside = await client.post(f"/integrations/webhooks/{connection['id']}", content=body, headers=headers)
    answers = [(r.status_code, r.json()) for r in (wrong_signature, unknown, unreadable, outside)]
    assert answers[0][0] == 401 and all(answer == answers[0] for answer in answers), answers
    assert await conn.fetchval("SELECT count(*) FROM integrations.webhook_deliveries") == 0


async def test_a_signed_delivery_replayed_after_the_window_is_refused(client, connection, conn):
    await link_issue(conn, connection["id"], key="CJ-4", idea="R", phase="improve", cost=1, plan_id=uuid.uuid4())
    url = f"/integrations/webhooks/{connection['id']}"
    six_minutes_ago = int(time.time() * 1000) - 6 * 60 * 1000
    for at_ms, identifier in ((six_minutes_ago, "old"), (int(time.time() * 1000) + 6 * 60 * 1000, "ahead")):
        body, headers = delivery("CJ-4", "done", identifier, at_ms=at_ms)
        response = await client.post(url, content=body, headers=headers)
        assert response.status_code == 422 and response.json()["type"].endswith("/stale-delivery"), response.text
        assert response.json()["errors"][0]["field"] == "body.timestamp"
    assert await status_of(conn, "CJ-4") == "new"
    assert await conn.fetchval("SELECT count(*) FROM integrations.webhook_deliveries") == 0


async def test_an_older_event_arriving_later_never_moves_an_issue_back(client, connection, conn):
    await link_issue(conn, connection["id"], key="CJ-5", idea="O", phase="improve", cost=1, plan_id=uuid.uuid4())
    url = f"/integrations/webhooks/{connection['id']}"
    now = int(time.time() * 1000)
    newer = await client.post(url, content=(d := delivery("CJ-5", "done", "e2", at_ms=now))[0], headers=d[1])
    older = await client.post(
        url, content=(d := delivery("CJ-5", "indeterminate", "e1", at_ms=now - 60_000))[0], headers=d[1]
    )
    assert newer.json()["applied"] is True and older.status_code == 200 and older.json()["applied"] is False
    assert await status_of(conn, "CJ-5") == "done"
    later = await client.post(
        url, content=(d := delivery("CJ-5", "indeterminate", "e3", at_ms=now + 1_000))[0], headers=d[1]
    )
    assert later.json()["applied"] is True and await status_of(conn, "CJ-5") == "indeterminate"


async def test_repeats_are_dropped_per_connection_not_across_connections(client, token_for, connection, conn, body_for):
    second_portfolio = await new_portfolio(client, token_for)
    other = await client.post(
        "/integrations/connections", json=body_for(portfolioId=second_portfolio), headers=token_for(EDITOR)
    )
    assert other.status_code == 201, other.text
    for each, key in ((connection, "CJ-6"), (other.json(), "CJ-7")):
        await link_issue(conn, each["id"], key=key, idea=key, phase="improve", cost=1, plan_id=uuid.uuid4())
    acks = []
    for each, key in ((connection, "CJ-6"), (other.json(), "CJ-7"), (connection, "CJ-6")):
        body, headers = delivery(key, "done", "same-identifier")
        acks.append((await client.post(f"/integrations/webhooks/{each['id']}", content=body, headers=headers)).json())
    assert [ack["duplicate"] for ack in acks] == [False, False, True]
    assert await status_of(conn, "CJ-6") == await status_of(conn, "CJ-7") == "done"


@pytest.mark.parametrize(
    ("payload", "identifier", "field"),
    [
        ({"timestamp": 0, "issue": {"key": "CJ-8", "fields": {"status": "str"}}}, "t1", "body.issue.fields.status"),
        ({"timestamp": "yesterday", "issue": {"key": "CJ-8"}}, "t2", "body.timestamp"),
        ({"issue": {"key": "CJ-8"}}, "t3", "body"),
        ({"timestamp": 0, "issue": {"key": "CJ-" + "8" * 100}}, "t4", "body.issue.key"),
        ({"timestamp": 0, "issue": {"key": ["CJ-8"]}}, "t5", "body.issue.key"),
        ({"timestamp": 0, "issue": "CJ-8"}, "t6", "body.issue"),
        (
            {"timestamp": 0, "issue": {"key": "CJ-8", "fields": {"status": {"name": "x" * 1000}}}},
            "t7",
            "body.issue.fields.status.name",
        ),
        ({"timestamp": 0, "issue": {"key": "CJ-8"}}, "i" * 129, "header.X-Atlassian-Webhook-Identifier"),
        ({"timestamp": 0, "issue": {"key": "CJ-8"}}, "bad identifier!", "header.X-Atlassian-Webhook-Identifier"),
        ([1, 2, 3], "t8", "body"),
    ],
)
async def test_a_signed_delivery_with_unexpected_types_or_sizes_is_a_4xx_naming_the_part(
    client, connection, conn, payload, identifier, field
):
    if isinstance(payload, dict) and payload.get("timestamp") == 0:
        payload = {**payload, "timestamp": int(time.time() * 1000)}
    body, headers = delivery("unused", "done", identifier, payload=payload)
    response = await client.post(f"/integrations/webhooks/{connection['id']}", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field, response.json()
    assert await conn.fetchval("SELECT count(*) FROM integrations.webhook_deliveries") == 0
