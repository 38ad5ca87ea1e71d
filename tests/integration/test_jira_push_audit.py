"""A plan's audit trail records its pushes: each start and each final state, with the push record's counts.

Through HTTP on the single-process app and its in-process worker, against the stand-in Jira:
the audit entries come from the `push.started` and `push.finished` events by the roadmap's own
job, so the test waits for them as a reader would, then compares their counts with the push's
record and the delivery view. A second delivery of an event, through the queue or straight to
the handler, and the catch-up sweep, add nothing.
"""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

import msgspec
import pytest
from roadmap_fixtures import EDITOR
from test_jira_push import approved_plan, connect, push_settings, single_process, wait_for

from services.integrations.payloads import idea_label
from services.kit import jobs, migrate
from services.kit.db import PoolSource, connect as db_connect
from services.kit.jobs import JobContext
from services.roadmap.plans.push_audit_jobs import AUDIT_PUSH_JOB, SWEEP_JOB, record_push_event, sweep

pytestmark = pytest.mark.integration

FINISHED = {"succeeded", "partial", "failed", "cancelled"}
REFUSED_FIELD = {"priority": "Specify the Priority (id or name) in the valid format"}


@pytest.fixture(scope="module")
def audit_database_url(make_database) -> str:
    url = make_database("push_audit")
    migrate.upgrade(url)
    return url


async def push(http, cid: str, plan: dict, editor, viewer) -> dict:
    started = await http.post(f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor)
    assert started.status_code == 202, started.text
    return await wait_for(http, started.headers["location"], viewer, until=FINISHED)


async def audited(http, plan_id: str, viewer, push_id: str, *, within: float = 30.0) -> list[dict]:
    """The plan's audit trail once it holds the push's final state (written by a job, so a moment later)."""
    deadline = time.monotonic() + within
    while True:
        response = await http.get(f"/roadmap/plans/{plan_id}/audit", headers=viewer)
        assert response.status_code == 200, response.text
        trail = response.json()
        if any(e["action"] == "push_finished" and e["detail"]["pushId"] == push_id for e in trail):
            return trail
        assert time.monotonic() < deadline, f"push {push_id} is not in the audit trail: {trail}"
        await asyncio.sleep(0.2)


def push_entries(trail: list[dict]) -> list[dict]:
    return [entry for entry in trail if entry["action"].startswith("push_")]


def entry(trail: list[dict], action: str, push_id: str) -> dict:
    [found] = [e for e in trail if e["action"] == action and e["detail"]["pushId"] == push_id]
    return found


async def test_the_audit_shows_each_push_with_the_counts_of_its_record_and_of_the_delivery_view(
    audit_database_url, settings, token_for, jira, monkeypatch
):
    settings = push_settings(settings, audit_database_url, jira, monkeypatch)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with single_process(settings) as http:
        scored, plan = await approved_plan(http, token_for)
        cid = await connect(http, jira, scored["portfolioId"], editor)
        # Jira refuses A1 on a field it names: the push ends partial, A1 failed and its link to A2 waiting.
        jira.fail_elements_labelled({idea_label(scored["portfolioId"], "A1")}, errors=REFUSED_FIELD)
        first = await push(http, cid, plan, editor, viewer)
        first_view = (await http.get(f"/integrations/plans/{plan['id']}/delivery", headers=viewer)).json()
        after_first = await audited(http, plan["id"], viewer, first["id"])
        jira._label_failures.clear()  # Jira takes A1 now: the re-push makes what is missing
        second = await push(http, cid, plan, editor, viewer)
        second_view = (await http.get(f"/integrations/plans/{plan['id']}/delivery", headers=viewer)).json()
        trail = await audited(http, plan["id"], viewer, second["id"])
        again = (await http.get(f"/integrations/pushes/{first['id']}", headers=viewer)).json()
    assert first["status"] == "partial" and first["counts"]["failed"] == 1 and first["counts"]["toDo"] == 1, first
    assert second["status"] == "succeeded" and second["counts"]["created"] == 1 and second["counts"]["linked"] == 1
    assert [(e["action"], e["detail"]["pushId"]) for e in push_entries(trail)] == [
        ("push_started", first["id"]), ("push_finished", first["id"]),
        ("push_started", second["id"]), ("push_finished", second["id"]),
    ]  # fmt: skip
    assert push_entries(after_first) == push_entries(trail)[:2]
    for pushed, view in ((first, first_view), (second, second_view)):
        started, finished = entry(trail, "push_started", pushed["id"]), entry(trail, "push_finished", pushed["id"])
        assert finished["detail"]["status"] == pushed["status"] == view["lastPush"]["status"]
        assert finished["detail"]["counts"] == pushed["counts"] == view["lastPush"]["counts"], (finished, pushed)
        assert started["actor"] == finished["actor"] == finished["detail"]["startedBy"] == pushed["createdBy"]
        assert started["actorRole"] == finished["actorRole"] == "programme_manager"
        assert finished["detail"]["connectionId"] == cid and finished["detail"]["link"].endswith(pushed["id"])
        assert finished["inputFingerprint"] == plan["inputFingerprint"] and finished["solver"]
    assert again["counts"] == entry(trail, "push_finished", first["id"])["detail"]["counts"]
    # The plan's own transitions stay where they were, before its pushes.
    assert [e["action"] for e in trail if not e["action"].startswith("push_")][-1] == "approved"


async def test_a_second_delivery_of_a_push_event_and_the_sweep_add_nothing_to_the_audit(
    audit_database_url, settings, token_for, jira, monkeypatch
):
    settings = push_settings(settings, audit_database_url, jira, monkeypatch)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with single_process(settings) as http:
        scored, plan = await approved_plan(http, token_for)
        cid = await connect(http, jira, scored["portfolioId"], editor)
        done = await push(http, cid, plan, editor, viewer)
        before = push_entries(await audited(http, plan["id"], viewer, done["id"]))
        db = await db_connect(audit_database_url)
        try:
            events = await db.fetch(
                "SELECT id, event_type FROM events.outbox WHERE envelope->>'subject' = $1 ORDER BY created_at",
                f"pushes/{done['id']}",
            )
            # The queue delivers at least once: the same events again, through the worker ...
            async with db.transaction():
                queued = [await jobs.enqueue(db, AUDIT_PUSH_JOB, str(e["id"]).encode()) for e in events]
            deadline = time.monotonic() + 30
            while await db.fetchval("SELECT count(*) FROM queue.pgqueuer WHERE id = ANY($1::bigint[])", queued):
                assert time.monotonic() < deadline, "the repeated audit jobs did not run"
                await asyncio.sleep(0.1)
            logged = await db.fetch(
                "SELECT status::text FROM queue.pgqueuer_log WHERE job_id = ANY($1::bigint[])",
                queued,
            )
            # ... and straight to the handler.
            written = [await record_push_event(db, e["id"]) for e in events]
            # Old enough for the sweep to look at them.
            await db.execute(
                "UPDATE events.outbox SET created_at = created_at - interval '1 hour' WHERE envelope->>'subject' = $1",
                f"pushes/{done['id']}",
            )
        finally:
            await db.close()
        source = await PoolSource.open(settings)
        try:  # the sweep finds nothing missing
            context = JobContext(job_id=0, entrypoint=SWEEP_JOB, payload=b"", attempt=0, settings=settings,
                                 pool=source.pool)  # fmt: skip
            await sweep(context)
        finally:
            await source.close()
        after = push_entries((await http.get(f"/roadmap/plans/{plan['id']}/audit", headers=viewer)).json())
    assert [e["event_type"] for e in events] == ["push.started", "push.finished"]
    ended = [row["status"] for row in logged if row["status"] not in ("queued", "picked")]
    assert ended == ["successful", "successful"], logged
    assert written == [0, 0]
    assert after == before and [e["action"] for e in after] == ["push_started", "push_finished"], after


async def test_a_push_event_whose_job_was_lost_is_caught_up_by_the_sweep(
    audit_database_url, settings, token_for, jira, monkeypatch
):
    settings = push_settings(settings, audit_database_url, jira, monkeypatch)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with single_process(settings) as http:
        scored, plan = await approved_plan(http, token_for)
        cid = await connect(http, jira, scored["portfolioId"], editor)
        done = await push(http, cid, plan, editor, viewer)
        await audited(http, plan["id"], viewer, done["id"])
    db = await db_connect(audit_database_url)
    try:
        # As if the audit jobs had been given up on an hour ago: the entries are missing, the events are not.
        await db.execute("DELETE FROM roadmap.audit_events WHERE origin LIKE $1", f"push:{done['id']}:%")
        await db.execute(
            "UPDATE events.outbox SET created_at = created_at - interval '1 hour' WHERE envelope->>'subject' = $1",
            f"pushes/{done['id']}",
        )
        source = await PoolSource.open(settings)
        try:
            context = JobContext(job_id=0, entrypoint=SWEEP_JOB, payload=b"", attempt=0, settings=settings,
                                 pool=source.pool)  # fmt: skip
            await sweep(context)
        finally:
            await source.close()
        rows = await db.fetch(
            "SELECT action, detail FROM roadmap.audit_events WHERE plan_id = $1 AND origin IS NOT NULL ORDER BY id",
            UUID(plan["id"]),
        )
    finally:
        await db.close()
    assert [(r["action"], r["detail"]["pushId"]) for r in rows] == [
        ("push_started", done["id"]), ("push_finished", done["id"]),
    ]  # fmt: skip
    assert msgspec.convert(rows[1]["detail"]["counts"], dict[str, int]) == done["counts"]
