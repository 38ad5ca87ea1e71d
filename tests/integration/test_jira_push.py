"""Pushing an approved plan to the stand-in Jira: dry run, push as a job, faults, exactly once.

A database of its own (the worker must see committed rows), the single-process app with its
in-process worker, and the stand-in Jira, which fails the test on any request that breaks
Atlassian's schemas.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import msgspec
import pytest
from roadmap_fixtures import EDITOR, LEADER, scenario_body, scored_portfolio

from services.integrations.payloads import idea_label
from services.kit import migrate
from services.kit.clock import Clock, system_clock
from services.kit.db import PoolSource
from services.single_process import create_single_process_app

pytestmark = pytest.mark.integration

WEBHOOK_SECRET = "push-test-webhook-secret"


@pytest.fixture(scope="module")
def push_database_url(make_database) -> str:
    url = make_database("push")
    migrate.upgrade(url)
    return url


def push_settings(settings, database_url: str, jira, monkeypatch):
    """Settings of an app that reaches the stand-in (the operator's one exception), with its API
    token in the environment, where creating a connection reads it to check it against Jira."""
    monkeypatch.setenv("ROADMAP_SECRET_PUSH_TEST_JIRA_TOKEN", jira.auth[1])
    return msgspec.structs.replace(
        settings, database_url=database_url, job_retry_after_seconds=2.0, outbound_allowed_hosts=(jira.host,)
    )


@contextlib.asynccontextmanager
async def single_process(settings, clock: Clock = system_clock) -> AsyncIterator[httpx.AsyncClient]:
    """The single-process app with its in-process worker running, and a client that talks to it."""
    source = await PoolSource.open(settings)
    app = create_single_process_app(settings, source=source, clock=clock)
    try:
        async with app.lifespan():
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=60
            ) as http:
                yield http
    finally:
        await source.close()


async def wait_for(http, url, headers, *, until, within=60.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        body = (await http.get(url, headers=headers)).json()
        if body["status"] in until:
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"{url} still {body['status']}: {body}")


async def run_and_approve(http, token_for, scenario_id: str, name: str) -> dict:
    """Optimise a scenario, make a plan of the run, submit it and approve every phase."""
    editor, leader, viewer = token_for(EDITOR), token_for("leader", subject=LEADER), token_for("viewer")
    run = (await http.post(f"/roadmap/scenarios/{scenario_id}/runs", json={}, headers=editor)).json()
    run = await wait_for(http, f"/roadmap/runs/{run['id']}", viewer, until={"succeeded", "failed"})
    plan = (await http.post(f"/roadmap/runs/{run['id']}/plans", json={"name": name}, headers=editor)).json()
    await http.post(f"/roadmap/plans/{plan['id']}/submit", headers=editor)
    for phase in plan["phases"]:
        await http.post(
            f"/roadmap/plans/{plan['id']}/phases/{phase['key']}/decision",
            json={"decision": "approve", "comment": "ok"},
            headers=leader,
        )
    return (await http.get(f"/roadmap/plans/{plan['id']}", headers=viewer)).json()


async def approved_plan(http, token_for) -> tuple[dict, dict]:
    scored = await scored_portfolio(http, token_for)
    body = scenario_body(scored, constraints=[{"kind": "requires", "idea": "A2", "on": "A1"}])
    scenario = (await http.post("/roadmap/scenarios", json=body, headers=token_for(EDITOR))).json()
    plan = await run_and_approve(http, token_for, scenario["id"], "Push me")
    assert plan["status"] == "approved", plan
    return scored, plan


async def connect(http, jira, portfolio_id: str, editor, *, webhook_secret_ref: str | None = None) -> str:
    """A connection of the portfolio to the stand-in's project; its token is read from the environment."""
    body = {"portfolioId": portfolio_id, "siteUrl": jira.base_url, "projectKey": "PROJ",
            "accountEmail": jira.auth[0], "apiTokenRef": "env:ROADMAP_SECRET_PUSH_TEST_JIRA_TOKEN"}  # fmt: skip
    if webhook_secret_ref:
        body["webhookSecretRef"] = webhook_secret_ref
    response = await http.post("/integrations/connections", json=body, headers=editor)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def issues_by_label(jira) -> dict[str, list[str]]:
    """Every issue of the stand-in by label, read through its REST API."""
    with httpx.Client(base_url=jira.base_url, auth=jira.auth) as client:
        found, token = [], None
        while True:
            body = {"jql": "project = PROJ ORDER BY key", "fields": ["labels"], "maxResults": 100}
            if token:
                body["nextPageToken"] = token
            page = client.post("/rest/api/3/search/jql", json=body).json()
            found += page["issues"]
            token = page.get("nextPageToken")
            if not token:
                break
    labels: dict[str, list[str]] = {}
    for issue in found:
        for label in issue["fields"]["labels"]:
            labels.setdefault(label, []).append(issue["key"])
    return labels


async def test_an_approved_plan_is_pushed_once_through_faults_and_status_comes_back(
    push_database_url, settings, token_for, jira, monkeypatch
):
    monkeypatch.setenv("ROADMAP_SECRET_PUSH_TEST_JIRA_WEBHOOK", WEBHOOK_SECRET)
    settings = push_settings(settings, push_database_url, jira, monkeypatch)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with single_process(settings) as http:
        scored, plan = await approved_plan(http, token_for)
        cid = await connect(
            http, jira, scored["portfolioId"], editor, webhook_secret_ref="env:ROADMAP_SECRET_PUSH_TEST_JIRA_WEBHOOK"
        )
        ideas = len(plan["assignments"])
        epics = len({a["phase"] for a in plan["assignments"]})

        dry = await http.post(f"/integrations/connections/{cid}/dry-run", json={"planId": plan["id"]}, headers=editor)
        assert dry.status_code == 200, dry.text
        counts = dry.json()["counts"]
        assert (counts["create_epic"], counts["create_issue"], counts["create_link"]) == (epics, ideas, 1)
        assert jira.calls.get("createIssue", 0) + jira.calls.get("createIssues", 0) == 0  # a dry run writes nothing

        # Faults on the way: a rate limit, then a create whose answer is lost.
        jira.fail_next(r"/rest/api/3/issue/bulk$", status=429, retry_after=0)
        jira.timeout_after_create(n=1)
        started = await http.post(
            f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor
        )
        assert started.status_code == 202, started.text
        push = await wait_for(http, started.headers["location"], viewer, until={"succeeded", "failed"})
        assert push["status"] == "succeeded" and push["errors"] == [], push

        labels = issues_by_label(jira)
        assert len(labels) >= ideas + epics
        assert all(len(keys) == 1 for keys in labels.values()), labels  # no duplicates
        assert len(jira.blocks()) == 1

        again = await http.post(f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor)
        second = await wait_for(http, again.headers["location"], viewer, until={"succeeded", "failed"})
        assert set(k for k, v in second["planned"].items() if v) == {"leave_alone"}
        assert set(k for k, v in second["counts"].items() if v) == {"unchanged", "linksFound"}
        assert issues_by_label(jira) == labels

        idea_key = labels[idea_label(scored["portfolioId"], "A1")][0]
        delivery = jira.status_change_webhook(idea_key, "Done", secret=WEBHOOK_SECRET)
        ack = await http.post(f"/integrations/webhooks/{cid}", content=delivery.body, headers=delivery.headers)
        assert ack.status_code == 200 and ack.json()["category"] == "done", ack.text
        view = (await http.get(f"/integrations/plans/{plan['id']}/delivery", headers=viewer)).json()
    assert view["ideas"] == ideas and view["done"] == 1


async def test_a_resumed_push_finds_what_an_interrupted_one_made_and_rejected_ideas_are_reported(
    push_database_url, settings, token_for, jira, monkeypatch
):

    settings = push_settings(settings, push_database_url, jira, monkeypatch)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with single_process(settings) as http:
        scored, plan = await approved_plan(http, token_for)
        cid = await connect(http, jira, scored["portfolioId"], editor)
        first_idea = sorted(plan["assignments"], key=lambda a: a["idea"])[0]["idea"]
        # A push killed after Jira made this idea's issue, before we recorded it:
        with httpx.Client(base_url=jira.base_url, auth=jira.auth) as client:
            made = client.post(
                "/rest/api/3/issue",
                json={"fields": {"project": {"key": "PROJ"}, "issuetype": {"name": "Task"},
                                 "summary": "made by a killed push",
                                 "labels": [idea_label(scored["portfolioId"], first_idea)]}},
            )  # fmt: skip
            assert made.status_code == 201, made.text
        # ...and Jira will refuse one element of the bulk create for good.
        jira.fail_bulk_elements({0}, status=400)
        started = await http.post(
            f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor
        )
        push = await wait_for(http, started.headers["location"], viewer, until={"succeeded", "partial", "failed"})
        retried = await http.post(
            f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor
        )
        second = await wait_for(http, retried.headers["location"], viewer, until={"succeeded", "partial", "failed"})
    labels = issues_by_label(jira)
    assert all(len(keys) == 1 for keys in labels.values()), labels
    assert labels[idea_label(scored["portfolioId"], first_idea)] == [made.json()["key"]]
    # Refused on a field Jira names: not resent, and the push says it is partial.
    failed = [e for e in push["errors"] if e["outcome"] == "failed"]
    assert push["status"] == "partial" and len(failed) == 1 and failed[0]["status"] == 400, push
    assert failed[0]["fields"] == {"summary": "The stand-in Jira was told to reject this element."}
    # The link from A1 to the refused A2 waits for it, instead of disappearing.
    waiting = [e for e in push["errors"] if e["outcome"] == "pending"]
    assert [(e["blocker"], e["blocked"]) for e in waiting] == [("A1", "A2")] and failed[0]["idea"] == "A2", push
    assert push["counts"]["failed"] == 1 and push["counts"]["toDo"] == 1
    # The killed push's issue, found by its label, hangs under no epic: it is put under its phase's.
    adopted = next(op for op in push["operations"] if op.get("idea") == first_idea)
    assert (adopted["action"], adopted["outcome"], adopted["issue_key"]) == (
        "update_issue",
        "updated",
        made.json()["key"],
    )
    assert jira.issue(made.json()["key"])["fields"]["parent"]["key"] in {
        op["issue_key"] for op in push["operations"] if op["action"] == "create_epic"
    }
    # The rejected idea is created by the next push, and nothing else is made twice.
    assert second["status"] == "succeeded" and second["errors"] == [] and second["counts"]["created"] == 1
    assert second["counts"]["linked"] == 1 and len(jira.blocks()) == 1
    assert len(
        [
            label
            for label in labels
            if label in {idea_label(scored["portfolioId"], a["idea"]) for a in plan["assignments"]}
        ]
    ) == len(plan["assignments"])


async def test_unavailable_jira_and_a_lost_bulk_answer_still_give_one_issue_per_idea(
    push_database_url, settings, token_for, jira, monkeypatch
):
    settings = push_settings(settings, push_database_url, jira, monkeypatch)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with single_process(settings) as http:
        scored, plan = await approved_plan(http, token_for)
        cid = await connect(http, jira, scored["portfolioId"], editor)
        jira.fail_next(r"/rest/api/3/search/jql$", status=503, retry_after=0, times=2)
        jira.fail_next(r"/rest/api/3/issue$", status=503, retry_after=0)
        jira.timeout_after_create(n=2)  # the epic's create, then the bulk create, lose their answers
        started = await http.post(
            f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor
        )
        push = await wait_for(http, started.headers["location"], viewer, until={"succeeded", "failed"})
    assert push["status"] == "succeeded" and push["errors"] == [], push
    labels = issues_by_label(jira)
    assert all(len(keys) == 1 for keys in labels.values()), labels
    assert jira.calls["createIssues"] >= 1
    assert sum(1 for request in jira.requests if request.status is None) == 2  # both answers really were lost


async def test_pushing_a_later_approved_replan_updates_creates_and_marks_never_deleting(
    push_database_url, settings, token_for, jira, monkeypatch
):
    from services.integrations.payloads import UNPLANNED_LABEL, idea_label

    settings = push_settings(settings, push_database_url, jira, monkeypatch)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with single_process(settings) as http:
        scored, plan = await approved_plan(http, token_for)
        cid = await connect(http, jira, scored["portfolioId"], editor)
        first = await http.post(f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor)
        await wait_for(http, first.headers["location"], viewer, until={"succeeded", "failed"})
        before = issues_by_label(jira)

        # Next year: no Improve budget any more, so what was planned there must go or move.
        replan = (await http.post(
            f"/roadmap/plans/{plan['id']}/replan", json={"name": "Next", "movePenalty": 0}, headers=editor
        )).json()  # fmt: skip
        phases = [{**p, "budget": 0} if p["key"] == "improve" else p for p in replan["phases"]]
        await http.patch(f"/roadmap/scenarios/{replan['id']}", json={"phases": phases}, headers=editor)
        newer = await run_and_approve(http, token_for, replan["id"], "Next")
        dry = (
            await http.post(f"/integrations/connections/{cid}/dry-run", json={"planId": newer["id"]}, headers=editor)
        ).json()
        second = await http.post(
            f"/integrations/connections/{cid}/pushes", json={"planId": newer["id"]}, headers=editor
        )
        pushed = await wait_for(http, second.headers["location"], viewer, until={"succeeded", "failed"})
    old_ideas = {a["idea"] for a in plan["assignments"]}
    new_ideas = {a["idea"] for a in newer["assignments"]}
    dropped = old_ideas - new_ideas
    assert "A1" in dropped  # it could only be done in Improve
    assert dry["counts"]["mark_unplanned"] == len(dropped) and pushed["planned"] == dry["counts"]
    assert pushed["counts"]["markedUnplanned"] == len(dropped)
    after = issues_by_label(jira)
    assert all(len(keys) == 1 for label, keys in after.items() if label != UNPLANNED_LABEL), after
    for ref in old_ideas:  # nothing was deleted
        assert idea_label(scored["portfolioId"], ref) in after
    unplanned = set(after.get(UNPLANNED_LABEL, []))
    assert unplanned == {before[idea_label(scored["portfolioId"], ref)][0] for ref in dropped}


async def test_a_push_whose_worker_is_killed_mid_create_is_finished_by_another_without_duplicates(
    push_database_url, settings, token_for, jira, tmp_path, monkeypatch
):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    settings = push_settings(settings, push_database_url, jira, monkeypatch)
    source = await PoolSource.open(settings)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    env = {**os.environ, "ROADMAP_DATABASE_URL": push_database_url, "ROADMAP_DATA_DIR": str(tmp_path),
           "ROADMAP_JOB_RETRY_AFTER_SECONDS": "2", "ROADMAP_SECRET_PUSH_TEST_JIRA_TOKEN": jira.auth[1],
           "ROADMAP_OUTBOUND_ALLOWED_HOSTS": jira.host}  # fmt: skip
    roadmap = str(Path(sys.executable).with_name("roadmap"))
    workers: list[subprocess.Popen] = []
    try:
        with_worker = create_single_process_app(settings, source=source)
        async with with_worker.lifespan():
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=with_worker), base_url="http://t", timeout=60
            ) as http:
                scored, plan = await approved_plan(http, token_for)
        # From here on only worker processes take jobs.
        app = create_single_process_app(settings, source=source, run_jobs=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=60) as http:
            cid = await connect(http, jira, scored["portfolioId"], editor)
            jira.timeout_after_create(n=1, hang_seconds=6)  # the first create is made, then hangs
            started = await http.post(
                f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor
            )
            with (tmp_path / "first.log").open("w") as log:
                workers.append(subprocess.Popen([roadmap, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any(r.operation == "createIssue" for r in jira.requests):
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            workers[0].send_signal(signal.SIGKILL)  # mid-create: Jira has made the epic, nobody recorded it
            workers[0].wait(timeout=10)
            with (tmp_path / "second.log").open("w") as log:
                workers.append(subprocess.Popen([roadmap, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT))
            push = await wait_for(http, started.headers["location"], viewer, until={"succeeded", "failed"}, within=90)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=20)
        await source.close()
    assert push["status"] == "succeeded" and push["errors"] == [], (push, (tmp_path / "second.log").read_text()[-2000:])
    assert push["attempts"] == 2
    labels = issues_by_label(jira)
    assert all(len(keys) == 1 for keys in labels.values()), labels
    assert len(labels) == len(plan["assignments"]) + len({a["phase"] for a in plan["assignments"]})


async def test_a_stored_reference_or_site_refused_now_fails_the_push_and_nothing_is_sent(
    push_database_url, settings, token_for, jira, monkeypatch
):
    # A row written under older rules (or by hand): the rules hold when a reference or a site is used.
    import asyncpg
    from listeners import Listener

    settings = push_settings(settings, push_database_url, jira, monkeypatch)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    with Listener() as unnamed:
        async with single_process(settings) as http:
            scored, plan = await approved_plan(http, token_for)
            cid = await connect(http, jira, scored["portfolioId"], editor)
            asked = len(jira.requests)
            outcomes = []
            for change in (
                "SET api_token_ref = 'env:ROADMAP_JWT_SECRET'",
                f"SET api_token_ref = 'env:ROADMAP_SECRET_PUSH_TEST_JIRA_TOKEN', site_url = 'http://{unnamed.host}'",
            ):
                db = await asyncpg.connect(push_database_url)
                try:
                    await db.execute(f"UPDATE integrations.connections {change} WHERE id = $1", UUID(cid))
                finally:
                    await db.close()
                started = await http.post(
                    f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor
                )
                outcomes.append(
                    await wait_for(http, started.headers["location"], viewer, until={"succeeded", "failed"})
                )
    by_reference, by_site = outcomes
    assert by_reference["status"] == "failed" and by_reference["attempts"] == 1, by_reference
    assert "apiTokenRef" in by_reference["errors"][0]["messages"][0], by_reference
    assert by_site["status"] == "failed" and "siteUrl" in by_site["errors"][0]["messages"][0], by_site
    assert len(jira.requests) == asked and unnamed.connections == 0  # neither push sent anything anywhere
