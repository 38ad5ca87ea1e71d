"""A push that ends tells subscribers (`push.finished`), and the single process's in-process worker
refreshes delivery from Jira on its own when ROADMAP_DELIVERY_REFRESH_SECONDS is set."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime

import msgspec
import pytest
from listeners import Receiver
from roadmap_fixtures import EDITOR
from test_jira_push import approved_plan, connect, push_settings, single_process, wait_for

from services.integrations.payloads import idea_label
from services.kit import migrate
from services.kit.db import connect as db_connect
from services.kit.settings import Settings, SettingsError

pytestmark = pytest.mark.integration

SECRET_REF = "env:ROADMAP_SECRET_PUSH_EVENTS"


@pytest.fixture(scope="module")
def events_database_url(make_database) -> str:
    url = make_database("push_events")
    migrate.upgrade(url)
    return url


async def start_push(http, editor, cid: str, plan: dict) -> dict:
    started = await http.post(f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor)
    assert started.status_code == 202, started.text
    return started.json()


async def test_a_finished_push_is_told_to_subscribers_with_what_jira_did(
    events_database_url, settings, token_for, jira, monkeypatch
):
    monkeypatch.setenv("ROADMAP_SECRET_PUSH_EVENTS", "push-events-signing-secret")
    with Receiver(204) as receiver:
        settings = push_settings(settings, events_database_url, jira, monkeypatch)
        settings = msgspec.structs.replace(settings, outbound_allowed_hosts=(jira.host, receiver.host))
        editor, viewer = token_for(EDITOR), token_for("viewer")
        async with single_process(settings) as http:
            scored, plan = await approved_plan(http, token_for)
            body = {
                "portfolioId": scored["portfolioId"],
                "url": receiver.url,
                "events": ["push.finished"],
                "secretRef": SECRET_REF,
            }
            subscribed = await http.post("/roadmap/subscriptions", json=body, headers=editor)
            assert subscribed.status_code == 201, subscribed.text
            cid = await connect(http, jira, scored["portfolioId"], editor)
            push = await start_push(http, editor, cid, plan)
            done = await wait_for(
                http, f"/integrations/pushes/{push['id']}", viewer, until={"succeeded", "partial", "failed"}
            )
            deadline = time.monotonic() + 30
            while not receiver.received() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
    [(_, _, _, raw)] = receiver.received()
    event = json.loads(raw)
    assert event["type"] == "dev.roadmap-backend.push.finished"
    assert event["subject"] == f"pushes/{push['id']}" and event["source"] == f"/portfolios/{scored['portfolioId']}"
    assert event["data"] == {"pushId": push["id"], "planId": plan["id"], "connectionId": cid, "status": "succeeded",
                             "counts": done["counts"], "link": f"/integrations/pushes/{push['id']}",
                             "startedBy": done["createdBy"], "startedByRole": "programme_manager",
                             "startedAt": event["data"]["startedAt"], "cancelledBy": None}  # fmt: skip
    assert datetime.fromisoformat(event["data"]["startedAt"]) == datetime.fromisoformat(done["createdAt"])


async def test_a_push_cancelled_while_waiting_is_recorded_finished_in_the_outbox(
    events_database_url, settings, token_for, jira, monkeypatch
):
    settings = push_settings(settings, events_database_url, jira, monkeypatch)
    settings = msgspec.structs.replace(settings, jira_call_retry_seconds=0.5, jira_outage_first_wait_seconds=60.0)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with single_process(settings) as http:
        scored, plan = await approved_plan(http, token_for)
        cid = await connect(http, jira, scored["portfolioId"], editor)
        jira.down(503)  # the push waits for Jira, a minute at first
        push = await start_push(http, editor, cid, plan)
        await wait_for(http, f"/integrations/pushes/{push['id']}", viewer, until={"waiting"})
        cancelled = await http.post(f"/integrations/pushes/{push['id']}/cancel", headers=editor)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
        jira.up()
    db = await db_connect(events_database_url)
    try:
        rows = await db.fetch(
            "SELECT portfolio_id, envelope FROM events.outbox WHERE event_type = 'push.finished' AND envelope->>'subject' = $1",
            f"pushes/{push['id']}",
        )
    finally:
        await db.close()
    assert [(str(r["portfolio_id"]), r["envelope"]["data"]["status"]) for r in rows] == [
        (scored["portfolioId"], "cancelled")
    ]
    assert rows[0]["envelope"]["data"]["cancelledBy"] == cancelled.json()["cancelRequestedBy"]


async def test_the_in_process_worker_refreshes_delivery_on_its_own(
    events_database_url, settings, token_for, jira, monkeypatch
):
    settings = push_settings(settings, events_database_url, jira, monkeypatch)
    settings = msgspec.structs.replace(settings, delivery_refresh_seconds=0.3)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with single_process(settings) as http:
        scored, plan = await approved_plan(http, token_for)
        cid = await connect(http, jira, scored["portfolioId"], editor)
        push = await start_push(http, editor, cid, plan)
        await wait_for(http, f"/integrations/pushes/{push['id']}", viewer, until={"succeeded"})
        key = next(
            k for k in jira.state.issues.values() if idea_label(scored["portfolioId"], "A1") in k.values["labels"]
        ).key
        jira.set_status(key, "Done")
        deadline, view = time.monotonic() + 30, {}
        while time.monotonic() < deadline:  # no webhook and no refresh request: only the periodic refresh reads it
            view = (await http.get(f"/integrations/plans/{plan['id']}/delivery", headers=viewer)).json()
            if view["done"] == 1:
                break
            await asyncio.sleep(0.2)
    assert view["done"] == 1, view
    assert next(row for row in view["ideaRows"] if row["ref"] == "A1")["statusCategory"] == "done"


def test_the_refresh_interval_is_a_setting_parsed_once():
    assert Settings.from_env({}).delivery_refresh_seconds is None
    assert Settings.from_env({"ROADMAP_DELIVERY_REFRESH_SECONDS": "0"}).delivery_refresh_seconds is None
    assert Settings.from_env({"ROADMAP_DELIVERY_REFRESH_SECONDS": "90"}).delivery_refresh_seconds == 90.0
    for bad in ("soon", "-5", "inf"):
        with pytest.raises(SettingsError, match="ROADMAP_DELIVERY_REFRESH_SECONDS"):
            Settings.from_env({"ROADMAP_DELIVERY_REFRESH_SECONDS": bad})
