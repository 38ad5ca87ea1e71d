"""Jira down for longer than a call's retries: a push waits, and finishes once Jira is back.

The single-process app with its in-process worker, on a database of its own, against the
stand-in Jira taken down half-way through a push. The retry budget of a call and the waits
between attempts are made small through the settings, so an outage of a few seconds is many
times what one call waits and makes the push reschedule itself several times.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable
from uuid import UUID

import asyncpg
import msgspec
import pytest
from listeners import HTML_NOT_FOUND, Listener, closed_port
from roadmap_fixtures import EDITOR
from test_jira_push import approved_plan, connect, issues_by_label, single_process, wait_for

from services.integrations import push_repository
from services.integrations.jira_answers import NOT_JIRA
from services.integrations.jobs import PUSH_JOB
from services.kit import migrate

pytestmark = pytest.mark.integration

FINISHED = {"succeeded", "partial", "failed", "cancelled"}


@pytest.fixture(scope="module")
def outage_database_url(make_database) -> str:
    url = make_database("outage")
    migrate.upgrade(url)
    return url


def outage_settings(settings, database_url: str, jira, *, give_up: float):
    return msgspec.structs.replace(
        settings,
        outbound_allowed_hosts=(jira.host,),
        database_url=database_url,
        job_retry_after_seconds=2.0,
        jira_call_retry_seconds=0.5,
        jira_outage_first_wait_seconds=0.5,
        jira_outage_max_wait_seconds=1.5,
        jira_outage_give_up_seconds=give_up,
    )


async def watch(http, url, headers, until: Callable[[dict], bool], *, within: float = 60.0) -> dict:
    """Poll a push until `until` holds for it; fails with its last state after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        body = (await http.get(url, headers=headers)).json()
        if until(body):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never got there: {body}")


async def start_push(http, cid: str, plan: dict, editor) -> str:
    started = await http.post(f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor)
    assert started.status_code == 202, started.text
    return started.headers["location"]


async def one_job_carries_it_on(database_url: str, push_id: str) -> tuple[int, object]:
    """How many jobs are queued to carry a waiting push on (read with the push, in one snapshot),
    and what a late delivery of any other job gets when it tries to take the push."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, queued = await conn.fetchrow(
                """
                SELECT p.status, (SELECT count(*) FROM queue.pgqueuer q
                                  WHERE q.entrypoint = $2 AND q.payload = $3 AND q.status = 'queued')
                FROM integrations.pushes p WHERE p.id = $1
                """,
                UUID(push_id), PUSH_JOB, push_id.encode(),
            )  # fmt: skip
            if status == "waiting":
                break
            await asyncio.sleep(0.05)
        stale = await push_repository.claim_push(conn, UUID(push_id), job_id=-1)
    finally:
        await conn.close()
    return queued, stale


def assert_one_issue_per_idea_and_one_epic_per_phase(jira, plan: dict) -> None:
    labels = issues_by_label(jira)
    assert all(len(keys) == 1 for keys in labels.values()), labels
    assert len(labels) == len(plan["assignments"]) + len({a["phase"] for a in plan["assignments"]}), labels


@contextlib.asynccontextmanager
async def approved_and_connected(database_url, settings, token_for, jira, monkeypatch) -> AsyncIterator[tuple]:
    """The app with its worker, an approved plan, and a connection of its portfolio to the stand-in."""
    monkeypatch.setenv("ROADMAP_SECRET_PUSH_TEST_JIRA_TOKEN", jira.auth[1])
    async with single_process(outage_settings(settings, database_url, jira, give_up=600.0)) as http:
        scored, plan = await approved_plan(http, token_for)
        yield http, plan, await connect(http, jira, scored["portfolioId"], token_for(EDITOR))


async def test_a_push_cut_off_by_a_jira_outage_waits_and_finishes_once_jira_is_back(
    outage_database_url, settings, token_for, jira, monkeypatch
):
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with approved_and_connected(outage_database_url, settings, token_for, jira, monkeypatch) as (http, plan, cid):
        ideas, epics = len(plan["assignments"]), len({a["phase"] for a in plan["assignments"]})

        jira.down(503, after_creates=1)  # the first epic is made, then every request gets 503
        url = await start_push(http, cid, plan, editor)
        waiting = await watch(http, url, viewer, lambda p: p["status"] not in {"queued", "running"})
        assert waiting["status"] == "waiting", waiting
        assert "503" in waiting["lastError"] and waiting["finishedAt"] is None, waiting
        assert waiting["waitingSince"] < waiting["waitingUntil"]
        assert waiting["counts"]["created"] == 1  # what it did before Jira went is on record

        # Pushed again meanwhile: the two pushes take turns and neither makes what the other made.
        second_url = await start_push(http, cid, plan, editor)

        # Rescheduled at least twice, one outage all along. (An attempt may also find the other
        # push holding the project and wait its turn without asking Jira, so the refusals are
        # waited for on their own rather than counted per attempt.)
        def refusals() -> int:
            return sum(1 for r in jira.requests if r.status == 503)

        later = await watch(
            http, url, viewer,
            lambda p: (p["attempts"] >= 3 and p["status"] == "waiting" and refusals() >= 3) or p["status"] in FINISHED,
        )  # fmt: skip
        assert later["status"] == "waiting" and later["waitingSince"] == waiting["waitingSince"], later
        refused = refusals()
        queued, stale = await one_job_carries_it_on(outage_database_url, later["id"])

        jira.up()
        push = await wait_for(http, url, viewer, until=FINISHED)
        second = await wait_for(http, second_url, viewer, until=FINISHED)
    assert second["status"] == "succeeded" and second["errors"] == [], second
    assert queued == 1 and stale is None  # one job per push; a late delivery of another takes nothing
    assert refused >= 3
    assert push["status"] == "succeeded" and push["errors"] == [], push
    assert push["attempts"] >= 4 and push["waitingSince"] is None and push["lastError"] is None
    made = {what: push["counts"][what] + second["counts"][what] for what in ("created", "linked")}
    assert made == {"created": epics + ideas, "linked": 1}, (push["counts"], second["counts"])
    assert_one_issue_per_idea_and_one_epic_per_phase(jira, plan)
    assert len(jira.blocks()) == 1


async def test_an_element_jira_keeps_refusing_leaves_the_push_partial_and_a_repush_makes_only_it(
    outage_database_url, settings, token_for, jira, monkeypatch
):
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with approved_and_connected(outage_database_url, settings, token_for, jira, monkeypatch) as (http, plan, cid):
        # The bulk create's first element is refused (503) on the first send and every resend of it.
        jira.fail_bulk_elements({0}, status=503, errors={"summary": "Service unavailable"}, times=4)
        push = await wait_for(http, await start_push(http, cid, plan, editor), viewer, until=FINISHED)
        again = await wait_for(http, await start_push(http, cid, plan, editor), viewer, until=FINISHED)
    failed = [error for error in push["errors"] if error["outcome"] == "failed"]
    assert push["status"] == "partial" and len(failed) == 1 and failed[0]["status"] == 503, push
    assert "refused 4 times" in failed[0]["messages"] and "push again" in failed[0]["remedy"], failed
    assert push["counts"]["failed"] == 1 and push["attempts"] == 1
    assert again["status"] == "succeeded" and again["counts"]["created"] == 1, again
    assert_one_issue_per_idea_and_one_epic_per_phase(jira, plan)


async def test_a_push_whose_project_lock_dies_stops_before_its_next_create_and_carries_on(
    outage_database_url, settings, token_for, jira, monkeypatch
):
    # The lock that keeps a project to one push lives in a database session. When that session
    # dies (a restart, an administrator), another push may take the project: this attempt must
    # not go on creating as if it still held it.
    viewer = token_for("viewer")
    async with approved_and_connected(outage_database_url, settings, token_for, jira, monkeypatch) as (http, plan, cid):
        jira.slow(0.3)  # slow enough to act while the push is between its creates
        url = await start_push(http, cid, plan, token_for(EDITOR))
        # While it makes its epics, before the ideas' bulk create: end the lock's session.
        deadline = time.monotonic() + 30
        while await terminate_lock_holder(outage_database_url) == 0:
            assert time.monotonic() < deadline, "the push never took its project's lock"
            await asyncio.sleep(0.05)
        jira.slow(0)
        push = await wait_for(http, url, viewer, until=FINISHED)
    assert push["status"] == "succeeded" and push["errors"] == [], push
    assert push["attempts"] >= 2, push  # the attempt that lost its lock stopped; another finished
    assert_one_issue_per_idea_and_one_epic_per_phase(jira, plan)


async def terminate_lock_holder(database_url: str) -> int:
    """End the database session holding this database's push lock; how many were ended."""
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(
            """
            SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l
            JOIN pg_database d ON d.oid = l.database AND d.datname = current_database()
            WHERE l.locktype = 'advisory' AND l.granted
            """
        )
    finally:
        await conn.close()


async def test_a_push_fails_at_once_on_bad_credentials_and_gives_up_on_an_outage_that_lasts_too_long(
    outage_database_url, settings, token_for, jira, monkeypatch
):
    settings = outage_settings(settings, outage_database_url, jira, give_up=3.0)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    monkeypatch.setenv("ROADMAP_SECRET_PUSH_TEST_JIRA_TOKEN", jira.auth[1])  # creating the connection checks it
    async with single_process(settings) as http:
        scored, plan = await approved_plan(http, token_for)
        cid = await connect(http, jira, scored["portfolioId"], editor)

        # A wrong API token: no retry fixes that, so the push fails at once, without waiting.
        monkeypatch.setenv("ROADMAP_SECRET_PUSH_TEST_JIRA_TOKEN", "not-the-api-token")
        refused = await wait_for(http, await start_push(http, cid, plan, editor), viewer, until=FINISHED)

        # Jira refuses connections for longer than the push is set to wait (3 s).
        monkeypatch.setenv("ROADMAP_SECRET_PUSH_TEST_JIRA_TOKEN", jira.auth[1])
        jira.down(None)
        gave_up = await wait_for(http, await start_push(http, cid, plan, editor), viewer, until=FINISHED)
        jira.up()
        again = await wait_for(http, await start_push(http, cid, plan, editor), viewer, until=FINISHED)
    assert refused["status"] == "failed" and refused["attempts"] == 1 and refused["waitingSince"] is None, refused
    assert refused["errors"][0]["status"] == 401
    assert "test-api-token" not in str(refused) and "not-the-api-token" not in str(refused)

    assert gave_up["status"] == "failed" and gave_up["attempts"] >= 2, gave_up
    message = gave_up["errors"][0]["messages"][0]
    assert "Jira was unavailable" in message and "ROADMAP_JIRA_OUTAGE_GIVE_UP_SECONDS" in message, message
    # Refused connections read as any site that does not answer as Jira does: no error names leak.
    assert NOT_JIRA in message and gave_up["lastError"] == NOT_JIRA and "ConnectError" not in str(gave_up), gave_up
    assert gave_up["waitingSince"] is not None and gave_up["waitingUntil"] is None

    assert again["status"] == "succeeded" and again["errors"] == [], again
    assert again["planned"]["create_issue"] == len(plan["assignments"])
    assert again["counts"]["created"] == len(plan["assignments"]) + len({a["phase"] for a in plan["assignments"]})
    assert_one_issue_per_idea_and_one_epic_per_phase(jira, plan)


def test_the_waiting_migration_goes_down_to_queued_pushes_and_up_again(make_database):
    url = make_database("outage_migration")
    migrate.upgrade(url)

    async def sql(query: str) -> object:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(query)
        finally:
            await conn.close()

    asyncio.run(sql(
        """
        WITH p AS (INSERT INTO access.portfolios DEFAULT VALUES RETURNING id), c AS (
            INSERT INTO integrations.connections
                (portfolio_id, site_url, project_key, account_email, api_token_ref, mapping, created_by)
            SELECT id, 'http://jira', 'PROJ', 'a@b.c', 'env:X', '{}', 't' FROM p RETURNING id
        )
        INSERT INTO integrations.pushes (connection_id, plan_id, created_by, status, waiting_since, last_error)
        SELECT id, gen_random_uuid(), 't', 'waiting', now(), 'Jira answered 503' FROM c
        """
    ))  # fmt: skip
    migrate.downgrade(url, "0007")
    assert asyncio.run(sql("SELECT status FROM integrations.pushes")) == "queued"
    with pytest.raises(asyncpg.CheckViolationError):
        asyncio.run(sql("UPDATE integrations.pushes SET status = 'waiting'"))
    migrate.upgrade(url)
    asyncio.run(sql("UPDATE integrations.pushes SET status = 'waiting', waiting_until = now()"))


@pytest.fixture
def fresh_database_url(make_database) -> str:
    """A database of its own: the pushes this test leaves behind must not meet other tests' workers."""
    url = make_database("outage_not_jira")
    migrate.upgrade(url)
    return url


async def test_a_site_that_stops_answering_as_jira_is_waited_out_exactly_like_a_closed_port(
    fresh_database_url, settings, token_for, jira, monkeypatch
):
    # A connection's site may later lead elsewhere (its DNS changed, or another service took the
    # port). Whatever answers there, the push must say no more than it would of a closed port,
    # in its status and in its messages: otherwise the server maps the operator's network.
    url = fresh_database_url
    editor, viewer = token_for(EDITOR), token_for("viewer")
    monkeypatch.setenv("ROADMAP_SECRET_PUSH_TEST_JIRA_TOKEN", jira.auth[1])
    closed = closed_port()
    with Listener(HTML_NOT_FOUND) as not_jira:
        settings = msgspec.structs.replace(
            outage_settings(settings, url, jira, give_up=2.0),
            outbound_allowed_hosts=(jira.host, not_jira.host, f"127.0.0.1:{closed}"),
        )
        async with single_process(settings) as http:
            scored, plan = await approved_plan(http, token_for)
            cid = await connect(http, jira, scored["portfolioId"], editor)
            seen = {}
            for name, site in (("not jira", f"http://{not_jira.host}"), ("closed", f"http://127.0.0.1:{closed}")):
                db = await asyncpg.connect(url)
                try:
                    await db.execute("UPDATE integrations.connections SET site_url = $2 WHERE id = $1", UUID(cid), site)
                finally:
                    await db.close()
                push_url = await start_push(http, cid, plan, editor)
                waiting = await watch(http, push_url, viewer, lambda p: p["status"] not in {"queued", "running"})
                finished = await wait_for(http, push_url, viewer, until=FINISHED)
                seen[name] = [(p["status"], p["lastError"], [re.sub(r"\d+", "N", m) for e in p["errors"] for m in e["messages"]])
                              for p in (waiting, finished)]  # fmt: skip
    assert not_jira.connections >= 1  # it was asked, and what it said is nowhere
    assert seen["not jira"] == seen["closed"], seen
    assert [status for status, _, _ in seen["closed"]] == ["waiting", "failed"]
    assert "internal admin" not in str(seen) and "ConnectError" not in str(seen)


async def test_a_waiting_push_whose_plan_was_superseded_since_stops_before_its_next_write(
    outage_database_url, settings, token_for, jira, monkeypatch
):
    import json

    from test_jira_push import run_and_approve

    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with approved_and_connected(outage_database_url, settings, token_for, jira, monkeypatch) as (http, plan, cid):
        jira.down(503)  # every request refused: the push waits before it writes anything
        url = await start_push(http, cid, plan, editor)
        waiting = await watch(http, url, viewer, lambda p: p["status"] not in {"queued", "running"})
        assert waiting["status"] == "waiting", waiting

        # Meanwhile the plan is re-planned, the new one approved and pushed: the old push is moot.
        replan = (await http.post(
            f"/roadmap/plans/{plan['id']}/replan", json={"name": "Next", "movePenalty": 0}, headers=editor
        )).json()  # fmt: skip
        newer = await run_and_approve(http, token_for, replan["id"], "Next")
        newer_url = await start_push(http, cid, newer, editor)
        jira.up()
        stopped = await wait_for(http, url, viewer, until=FINISHED)
        pushed = await wait_for(http, newer_url, viewer, until=FINISHED)
    assert stopped["status"] == "cancelled", stopped
    assert "superseded" in json.dumps(stopped) and newer["id"] in json.dumps(stopped), stopped
    assert stopped["counts"]["created"] == 0  # it stopped before writing anything
    assert pushed["status"] == "succeeded", pushed
    assert_one_issue_per_idea_and_one_epic_per_phase(jira, newer)
