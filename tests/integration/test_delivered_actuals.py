"""Only delivered ideas teach the estimates (issue 13): actuals and KPI measurements of an idea
tracked in Jira are refused (409) until its issue is done, by a Jira webhook or a refresh; an
idea never pushed to Jira records them as `manual`; and when the integrations service cannot be
asked, 503 naming it, with nothing written.

The first test pushes a real approved plan to the stand-in Jira (a database of its own: the
worker must see committed rows); the others run in the test's rolled-back transaction, with the
link table written directly as a push would leave it.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid

import httpx
import msgspec
import pytest
from listeners import closed_port
from roadmap_fixtures import EDITOR
from test_jira_push import approved_plan, connect, issues_by_label, push_settings, single_process, wait_for

from services.integrations.payloads import idea_label
from services.integrations.webhooks import signature_of
from services.kit import migrate
from services.scoring.app import create_app as create_scoring_app
from services.scoring.integrations_client import IntegrationsClient

pytestmark = pytest.mark.integration

WEBHOOK_SECRET = "delivered-test-webhook-secret"
ACTUALS = {"cost": 16_000, "effort": {"web": 6}, "trackedHours": 40}
MEASUREMENT = {"value": 0.4, "date": "2027-02-01", "target": 0.3}


@pytest.fixture(scope="module")
def delivered_database_url(make_database) -> str:
    url = make_database("delivered")
    migrate.upgrade(url)
    return url


async def member(http, token_for, portfolio_id: str, role: str) -> dict[str, str]:
    subject = f"{role}@example.com"
    response = await http.put(f"/scoring/portfolios/{portfolio_id}/members/{subject}", json={"roles": [role]},
                              headers=token_for("admin", subject="admin@example.com"))  # fmt: skip
    assert response.status_code == 200, response.text
    return token_for(role, subject=subject)


async def test_a_pushed_idea_takes_actuals_once_jira_says_done_by_webhook_or_refresh(
    delivered_database_url, settings, token_for, jira, monkeypatch
):
    monkeypatch.setenv("ROADMAP_SECRET_DELIVERED_WEBHOOK", WEBHOOK_SECRET)
    settings = push_settings(settings, delivered_database_url, jira, monkeypatch)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with single_process(settings) as http:
        scored, plan = await approved_plan(http, token_for)
        portfolio, base = scored["portfolioId"], scored["base"]
        delivery = await member(http, token_for, portfolio, "delivery")
        cid = await connect(http, jira, portfolio, editor, webhook_secret_ref="env:ROADMAP_SECRET_DELIVERED_WEBHOOK")
        started = await http.post(
            f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor
        )
        push = await wait_for(http, started.headers["location"], viewer, until={"succeeded", "failed"})
        assert push["status"] == "succeeded", push
        planned = sorted(a["idea"] for a in plan["assignments"])
        by_webhook, by_refresh = planned[0], planned[1]
        [untracked] = sorted({"A1", "A2", "B", "C", "E"} - set(planned))[:1]
        keys = {ref: issues_by_label(jira)[idea_label(portfolio, ref)][0] for ref in planned}

        # Pushed, not started: refused, naming the issue and its category, and nothing written.
        refused = await http.put(f"{base}/ideas/{by_webhook}/actuals", json=ACTUALS, headers=delivery)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert (problem["issueKey"], problem["statusCategory"]) == (keys[by_webhook], "new")
        assert problem["type"].endswith("/idea-not-delivered") and keys[by_webhook] in problem["detail"]
        kpi = await http.post(f"{base}/ideas/{by_webhook}/kpis/nps/measurements", json=MEASUREMENT, headers=delivery)
        assert kpi.status_code == 409, kpi.text
        assert (await http.get(f"{base}/ideas/{by_webhook}/actuals", headers=viewer)).status_code == 404
        assert (await http.get(f"{base}/ideas/{by_webhook}/kpis/nps/measurements", headers=viewer)).json() == []

        # In progress in Jira (a webhook says so): still refused, with the new category.
        moved = jira.status_change_webhook(keys[by_webhook], "In Progress", secret=WEBHOOK_SECRET)
        ack = await http.post(f"/integrations/webhooks/{cid}", content=moved.body, headers=moved.headers)
        assert ack.status_code == 200 and ack.json()["category"] == "indeterminate", ack.text
        refused = await http.put(f"{base}/ideas/{by_webhook}/actuals", json=ACTUALS, headers=delivery)
        assert (refused.status_code, refused.json()["statusCategory"]) == (409, "indeterminate"), refused.text

        # Done in Jira, told by webhook: taken, as delivered through Jira.
        done = jira.status_change_webhook(keys[by_webhook], "Done", secret=WEBHOOK_SECRET)
        ack = await http.post(f"/integrations/webhooks/{cid}", content=done.body, headers=done.headers)
        assert ack.status_code == 200 and ack.json()["category"] == "done", ack.text
        taken = await http.put(f"{base}/ideas/{by_webhook}/actuals", json=ACTUALS, headers=delivery)
        assert taken.status_code == 200, taken.text
        assert (taken.json()["deliveredVia"], taken.json()["jiraIssues"]) == ("jira", [keys[by_webhook]])
        kpi = await http.post(f"{base}/ideas/{by_webhook}/kpis/nps/measurements", json=MEASUREMENT, headers=delivery)
        assert kpi.status_code == 201 and kpi.json()["deliveredVia"] == "jira", kpi.text

        # Done in Jira with no webhook: refused until a refresh reads it, then taken.
        jira.set_status(keys[by_refresh], "Done")
        early = await http.put(f"{base}/ideas/{by_refresh}/actuals", json=ACTUALS, headers=delivery)
        assert early.status_code == 409, early.text
        refreshed = await http.post(f"/integrations/plans/{plan['id']}/delivery/refresh", headers=delivery)
        assert refreshed.status_code == 200, refreshed.text
        taken = await http.put(f"{base}/ideas/{by_refresh}/actuals", json=ACTUALS, headers=delivery)
        assert (taken.status_code, taken.json()["deliveredVia"]) == (200, "jira"), taken.text

        # Never pushed (left out of the plan): a team without Jira records it by hand.
        manual = await http.put(f"{base}/ideas/{untracked}/actuals", json=ACTUALS, headers=delivery)
        assert (manual.status_code, manual.json()["deliveredVia"], manual.json()["jiraIssues"]) == (200, "manual", [])

        # The integrations service's own answer, for the whole portfolio.
        listed = await http.get(f"/integrations/portfolios/{portfolio}/ideas/delivery", headers=viewer)
        calibration = (await http.get(f"{base}/calibration", headers=viewer)).json()
    assert listed.status_code == 200, listed.text
    statuses = {idea["ref"]: (idea["delivered"], idea["statusCategory"]) for idea in listed.json()["ideas"]}
    assert statuses[by_webhook] == statuses[by_refresh] == (True, "done")
    assert untracked not in statuses and set(statuses) == set(planned)
    assert (calibration["ideas"], calibration["deliveredVia"]) == (3, {"jira": 2, "manual": 1})


class SharedConnection:
    """Hands the test's connection to an app, so its requests run inside the test's transaction."""

    def __init__(self, conn) -> None:
        self.conn = conn

    @contextlib.asynccontextmanager
    async def connection(self):
        yield self.conn

    async def close(self) -> None:
        return None


@pytest.fixture
def webhook_secret(monkeypatch) -> str:
    monkeypatch.setenv("ROADMAP_SECRET_DELIVERED_HOOK", WEBHOOK_SECRET)
    return WEBHOOK_SECRET


async def pushed_portfolio(client, conn, token_for) -> tuple[str, str, uuid.UUID]:
    """A portfolio of ideas P (pushed), D (pushed, then dropped from the plan) and M (never pushed),
    with a connection whose link table holds P's and D's issues as a push leaves them."""
    editor = token_for(EDITOR)
    portfolio = (await client.post("/scoring/portfolios", json={"name": "Delivered"}, headers=editor)).json()["id"]
    ideas = [{"ref": ref, "title": f"Idea {ref}", "phases": ["improve"],
              "estimates": {"cost": 10_000, "effort": {"web": 5}}} for ref in ("P", "D", "M")]  # fmt: skip
    created = await client.post(f"/scoring/portfolios/{portfolio}/ideas/bulk", json={"ideas": ideas}, headers=editor)
    assert created.status_code == 201, created.text
    connection_id = await conn.fetchval(
        """
        INSERT INTO integrations.connections
            (portfolio_id, site_url, project_key, account_email, api_token_ref, webhook_secret_ref, mapping, created_by)
        VALUES ($1, 'https://acme.atlassian.net', 'CJ', 'bot@acme.example', 'env:ROADMAP_SECRET_JIRA',
                'env:ROADMAP_SECRET_DELIVERED_HOOK', '{}', 'pm@example.com')
        RETURNING id
        """,
        uuid.UUID(portfolio),
    )
    for ref, key, planned in (("P", "CJ-1", True), ("D", "CJ-2", False)):
        await conn.execute(
            """
            INSERT INTO integrations.issue_links
                (connection_id, kind, item, issue_key, issue_id, label, phase, cost, plan_id, planned)
            VALUES ($1, 'idea', $2, $3, $4, $5, 'improve', 10000, $6, $7)
            """,
            connection_id, ref, key, key.split("-")[1], f"rmap-{ref}", uuid.uuid4(), planned,
        )  # fmt: skip
    return portfolio, f"/scoring/portfolios/{portfolio}", connection_id


def status_webhook(key: str, category: str, identifier: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({
        "timestamp": int(time.time() * 1000), "webhookEvent": "jira:issue_updated",
        "issue": {"key": key, "fields": {"status": {"name": category.title(), "statusCategory": {"key": category}}}},
    }).encode()  # fmt: skip
    headers = {"Content-Type": "application/json", "X-Atlassian-Webhook-Identifier": identifier,
               "X-Hub-Signature": signature_of(WEBHOOK_SECRET, body)}  # fmt: skip
    return body, headers


async def test_tracked_ideas_wait_for_done_while_dropped_and_untracked_ones_are_manual(
    client, conn, token_for, webhook_secret
):
    portfolio, base, connection_id = await pushed_portfolio(client, conn, token_for)
    delivery = await member(client, token_for, portfolio, "delivery")
    refused = await client.put(f"{base}/ideas/P/actuals", json=ACTUALS, headers=delivery)
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"][0]["field"] == "ref"
    assert await conn.fetchval("SELECT count(*) FROM scoring.idea_actuals a JOIN scoring.ideas i ON i.id = a.idea_id "
                               "WHERE i.portfolio_id = $1", uuid.UUID(portfolio)) == 0  # fmt: skip

    body, headers = status_webhook("CJ-1", "done", "delivered-1")
    ack = await client.post(f"/integrations/webhooks/{connection_id}", content=body, headers=headers)
    assert ack.status_code == 200 and ack.json()["applied"] is True, ack.text
    taken = await client.put(f"{base}/ideas/P/actuals", json=ACTUALS, headers=delivery)
    assert (taken.status_code, taken.json()["deliveredVia"], taken.json()["jiraIssues"]) == (200, "jira", ["CJ-1"])
    read = (await client.get(f"{base}/ideas/P/actuals", headers=delivery)).json()
    assert (read["deliveredVia"], read["jiraIssues"]) == ("jira", ["CJ-1"])

    # Dropped from the plan (its issue marked unplanned), or never pushed: not tracked in Jira.
    for ref in ("D", "M"):
        manual = await client.post(f"{base}/ideas/{ref}/kpis/nps/measurements", json=MEASUREMENT, headers=delivery)
        assert (manual.status_code, manual.json()["deliveredVia"]) == (201, "manual"), manual.text
    listed = (await client.get(f"{base}/ideas/M/kpis/nps/measurements", headers=delivery)).json()
    assert [(m["value"], m["deliveredVia"]) for m in listed] == [(0.4, "manual")]


async def test_the_delivery_of_ideas_is_told_only_to_the_portfolios_members(client, conn, token_for, webhook_secret):
    portfolio, _, _ = await pushed_portfolio(client, conn, token_for)
    viewer = await member(client, token_for, portfolio, "viewer")
    one = await client.get(f"/integrations/portfolios/{portfolio}/ideas/P/delivery", headers=viewer)
    assert one.status_code == 200, one.text
    assert one.json() == {"ref": "P", "tracked": True, "delivered": False, "statusCategory": "new",
                          "issues": [{"ref": "P", "issueKey": "CJ-1", "statusCategory": "new", "statusName": None,
                                      "planId": one.json()["issues"][0]["planId"]}]}  # fmt: skip
    untracked = (await client.get(f"/integrations/portfolios/{portfolio}/ideas/M/delivery", headers=viewer)).json()
    assert (untracked["tracked"], untracked["delivered"], untracked["issues"]) == (False, False, [])
    stranger = token_for("delivery", "programme_manager", subject="stranger@example.com")
    for url in (
        f"/integrations/portfolios/{portfolio}/ideas/P/delivery",
        f"/integrations/portfolios/{portfolio}/ideas/delivery",
    ):
        assert (await client.get(url, headers=stranger)).status_code == 404  # fmt: skip
    # Nor can a non-member learn it through scoring: it is refused before integrations is asked.
    refused = await client.put(f"/scoring/portfolios/{portfolio}/ideas/P/actuals", json=ACTUALS, headers=stranger)
    assert refused.status_code == 404, refused.text


async def test_with_the_integrations_service_down_actuals_are_a_503_naming_it_and_nothing_is_written(
    client, conn, settings, token_for, webhook_secret
):
    portfolio, base, _ = await pushed_portfolio(client, conn, token_for)
    delivery = await member(client, token_for, portfolio, "delivery")
    # The scoring service on its own, its integrations service at an address nothing listens on.
    down = IntegrationsClient.over_http(f"http://127.0.0.1:{closed_port()}")
    apart = create_scoring_app(settings, source=SharedConnection(conn), integrations=down)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=apart), base_url="http://scoring") as scoring:
        for ref in ("P", "M"):  # tracked or not, nobody can tell while integrations is down
            answer = await scoring.put(f"{base}/ideas/{ref}/actuals", json=ACTUALS, headers=delivery)
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["dependency"] == "integrations" and "integrations" in answer.json()["detail"]
            kpi = await scoring.post(f"{base}/ideas/{ref}/kpis/nps/measurements", json=MEASUREMENT, headers=delivery)
            assert (kpi.status_code, kpi.json()["dependency"]) == (503, "integrations"), kpi.text
    await down.close()
    written = await conn.fetchval(
        """
        SELECT (SELECT count(*) FROM scoring.idea_actuals a JOIN scoring.ideas i ON i.id = a.idea_id WHERE i.portfolio_id = $1)
             + (SELECT count(*) FROM scoring.kpi_measurements k JOIN scoring.ideas i ON i.id = k.idea_id WHERE i.portfolio_id = $1)
        """,
        uuid.UUID(portfolio),
    )  # fmt: skip
    assert written == 0


def test_the_scoring_service_on_its_own_needs_the_integrations_address(settings):
    alone = msgspec.structs.replace(settings, integrations_url=None, services_url=None)
    with pytest.raises(ValueError, match="ROADMAP_INTEGRATIONS_URL"):
        create_scoring_app(alone)
