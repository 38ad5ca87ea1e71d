"""Events to subscribers: signed CloudEvents delivered by jobs, retried, and subscriptions refused
where they would break the outbound rules.

The delivery test runs on a database of its own (the worker must see committed rows), with the
single-process app and its in-process worker, and receivers on loopback that the operator
allowed (ROADMAP_OUTBOUND_ALLOWED_HOSTS), as a chat bridge would be.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import msgspec
import pytest
from listeners import Receiver, closed_port
from roadmap_fixtures import EDITOR, scenario_body, scored_portfolio
from test_jira_push import run_and_approve, single_process

from services.kit import migrate
from services.kit.db import connect
from services.kit.events.envelope import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

pytestmark = pytest.mark.integration

SECRET = "events-test-signing-secret"
SECRET_REF = "env:ROADMAP_SECRET_EVENTS_TEST"
PLAN_EVENTS = ["plan.submitted", "phase.decided", "plan.approved"]


@pytest.fixture(scope="module")
def settings(settings):
    """The session's settings with one operator's exception: a loopback subscriber on port 8443."""
    return msgspec.structs.replace(settings, outbound_allowed_hosts=("127.0.0.1:8443",))


@pytest.fixture(scope="module")
def events_database_url(make_database) -> str:
    url = make_database("events")
    migrate.upgrade(url)
    return url


async def subscribe(http, headers, portfolio_id: str, url: str, events=PLAN_EVENTS, secret_ref=SECRET_REF):
    body = {"portfolioId": portfolio_id, "url": url, "events": events, "secretRef": secret_ref}
    return await http.post("/roadmap/subscriptions", json=body, headers=headers)


async def settled_deliveries(http, headers, subscription_id: str, *, count: int, within: float = 60.0) -> list[dict]:
    """The subscription's deliveries once there are `count` and none is pending any more."""
    deadline = time.monotonic() + within
    items: list[dict] = []
    while time.monotonic() < deadline:
        items = (await http.get(f"/roadmap/subscriptions/{subscription_id}/deliveries", headers=headers)).json()[
            "items"
        ]
        if len(items) == count and all(item["status"] != "pending" for item in items):
            return items
        await asyncio.sleep(0.2)
    raise AssertionError(f"deliveries not settled: {items}")


async def test_plan_events_reach_the_subscriber_signed_once_each_after_it_failed(
    settings, events_database_url, token_for, monkeypatch
):
    monkeypatch.setenv("ROADMAP_SECRET_EVENTS_TEST", SECRET)
    down = closed_port()
    with Receiver(503, 503, 204) as receiver:
        app_settings = msgspec.structs.replace(
            settings, database_url=events_database_url, job_retry_after_seconds=2.0,
            outbound_allowed_hosts=(receiver.host, f"127.0.0.1:{down}"),
            event_max_attempts=3, event_first_retry_seconds=0.2, event_max_retry_seconds=0.5,
        )  # fmt: skip
        async with single_process(app_settings) as http:
            editor = token_for(EDITOR)
            scored = await scored_portfolio(http, token_for)
            portfolio = scored["portfolioId"]
            taken = await subscribe(http, editor, portfolio, receiver.url)
            assert taken.status_code == 201, taken.text
            gone = await subscribe(http, editor, portfolio, f"http://127.0.0.1:{down}/events", events=["plan.approved"])
            assert gone.status_code == 201, gone.text
            scenario = (await http.post("/roadmap/scenarios", json=scenario_body(scored), headers=editor)).json()
            plan = await run_and_approve(http, token_for, scenario["id"], "Tell the leaders")
            assert plan["status"] == "approved", plan

            delivered = await settled_deliveries(http, editor, taken.json()["id"], count=6)
            failed = await settled_deliveries(http, editor, gone.json()["id"], count=1)
            # The worker's scheduler has registered the periodic review check of estimates, the
            # outbox's retention and the sweep that makes up for push audit jobs given up on.
            db = await connect(events_database_url)
            try:
                schedules = await db.fetch("SELECT entrypoint, expression FROM queue.pgqueuer_schedules")
            finally:
                await db.close()
    assert sorted((row["entrypoint"], row["expression"]) for row in schedules) == [
        ("events.prune", "30 * * * *"),
        ("roadmap.audit_push_sweep", "*/10 * * * *"),
        ("scoring.review_staleness", "0 * * * *"),
    ]

    assert {item["status"] for item in delivered} == {"delivered"}
    assert sum(item["attempts"] for item in delivered) == 8  # six events, two refused once each
    assert {item["lastOutcome"] for item in delivered} == {"HTTP 204"}
    [given_up] = failed
    assert (given_up["status"], given_up["attempts"], given_up["lastOutcome"]) == ("failed", 3, "could not connect")

    requests = receiver.received()
    assert len(requests) == 8
    events = [json.loads(body) for _, _, _, body in requests]
    # The first event was refused, then sent again with the same id: that is what a subscriber de-duplicates by.
    assert [e["id"] for e in events].count(events[0]["id"]) >= 2
    unique = {e["id"]: e for e in events}
    assert Counter(e["type"] for e in unique.values()) == {
        "dev.roadmap-backend.plan.submitted": 1, "dev.roadmap-backend.phase.decided": 4, "dev.roadmap-backend.plan.approved": 1,
    }  # fmt: skip
    for method, path, headers, body in requests:
        assert (method, path) == ("POST", "/events")
        assert headers["Content-Type"].startswith("application/cloudevents+json")
        assert verify(SECRET, headers, body, now=int(time.time()))
        assert not verify("another secret", headers, body, now=int(time.time()))
        assert not verify(SECRET, headers, body[:-1] + b" }", now=int(time.time()))
        assert not verify(SECRET, headers, body, now=int(headers[TIMESTAMP_HEADER]) + 3600)
        assert headers[SIGNATURE_HEADER].startswith("sha256=")
    submitted = next(e for e in unique.values() if e["type"].endswith("plan.submitted"))
    assert submitted["specversion"] == "1.0"
    assert submitted["source"] == f"/portfolios/{portfolio}"
    assert submitted["subject"] == f"plans/{plan['id']}"
    assert submitted["data"]["awaitingDecision"] == [p["key"] for p in plan["phases"]]
    decided = sorted(e["data"]["phase"] for e in unique.values() if e["type"].endswith("phase.decided"))
    assert decided == sorted(p["key"] for p in plan["phases"])
    assert all(e["data"]["decision"] == "approved" and e["data"]["comment"] == "ok"
               for e in unique.values() if e["type"].endswith("phase.decided"))  # fmt: skip


async def test_a_subscription_is_refused_naming_the_field_and_nothing_is_written(
    client, token_for, member_of, monkeypatch
):
    monkeypatch.setenv("ROADMAP_SECRET_EVENTS_TEST", SECRET)
    scored = await scored_portfolio(client, token_for)
    portfolio = scored["portfolioId"]
    editor = token_for(EDITOR)
    refusals = {
        "url": [{"url": "http://hooks.example.com/x"}, {"url": "https://127.0.0.1/x"}, {"url": "https://2130706433/x"},
                {"url": "https://[::ffff:127.0.0.1]/x"}, {"url": "https://user:pw@hooks.example.com/x"}, {"url": "not a url"}],
        "secretRef": [{"secretRef": "env:ROADMAP_DATABASE_URL"}, {"secretRef": "file:/etc/passwd"},
                      {"secretRef": "env:ROADMAP_SECRET_NOT_SET_ANYWHERE"}],
        "events[1]": [{"events": ["plan.submitted", "plan.rejected"]}],
    }  # fmt: skip
    good = {
        "portfolioId": portfolio,
        "url": "https://127.0.0.1/x",
        "events": ["plan.submitted"],
        "secretRef": SECRET_REF,
    }
    for field, changes in refusals.items():
        for change in changes:
            body = {**good, **change}
            if field != "url":
                body["url"] = "http://127.0.0.1:1/unused"  # refused too: the answer names every field at fault
            response = await client.post("/roadmap/subscriptions", json=body, headers=editor)
            assert response.status_code == 422, (change, response.text)
            assert field in {problem["field"] for problem in response.json()["errors"]}, (change, response.text)
    unknown = await client.post("/roadmap/subscriptions", json={**good, "extra": 1}, headers=editor)
    assert unknown.status_code in (400, 422), unknown.text
    listed = await client.get("/roadmap/subscriptions", params={"portfolioId": portfolio}, headers=editor)
    assert listed.status_code == 200 and listed.json() == [], listed.text

    viewer = await member_of(portfolio, "viewer")
    assert (await client.post("/roadmap/subscriptions", json=good, headers=viewer)).status_code == 403
    outsider = token_for(EDITOR, subject="outsider@example.com")
    hidden = await client.post("/roadmap/subscriptions", json=good, headers=outsider)
    assert hidden.status_code == 404 and hidden.json()["errors"][0]["field"] == "portfolioId", hidden.text


async def test_a_subscription_is_read_listed_and_deleted_by_its_programme_managers(client, token_for, monkeypatch):
    monkeypatch.setenv("ROADMAP_SECRET_EVENTS_TEST", SECRET)
    http = client
    scored = await scored_portfolio(http, token_for)
    portfolio = scored["portfolioId"]
    editor = token_for(EDITOR)
    # Only the operator's exception is allowed: the same address on another port is not.
    refused = await subscribe(http, editor, portfolio, "https://127.0.0.1:8444/events")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "url", refused.text
    made = await subscribe(
        http, editor, portfolio, "https://127.0.0.1:8443/events", events=["plan.approved", "plan.approved"]
    )
    assert made.status_code == 201, made.text
    subscription = made.json()
    assert (subscription["events"], subscription["secretRef"]) == (["plan.approved"], SECRET_REF)
    read = await http.get(f"/roadmap/subscriptions/{subscription['id']}", headers=editor)
    assert read.json() == subscription
    listed = await http.get("/roadmap/subscriptions", params={"portfolioId": portfolio}, headers=editor)
    assert [item["id"] for item in listed.json()] == [subscription["id"]]
    none_yet = await http.get(f"/roadmap/subscriptions/{subscription['id']}/deliveries", headers=editor)
    assert none_yet.json()["items"] == [] and none_yet.json()["total"] == 0
    other_pm = token_for(EDITOR, subject="someone-else@example.com")
    assert (await http.delete(f"/roadmap/subscriptions/{subscription['id']}", headers=other_pm)).status_code == 404
    assert (await http.delete(f"/roadmap/subscriptions/{subscription['id']}", headers=editor)).status_code == 204
    assert (await http.get(f"/roadmap/subscriptions/{subscription['id']}", headers=editor)).status_code == 404
