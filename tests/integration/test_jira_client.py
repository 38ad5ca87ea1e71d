"""The Jira client against the stand-in Jira: typed answers, waits Jira asks for, faults told apart.

Sleeps are recorded, never slept, so a 429 asking for a second costs nothing; read timeouts are
short so the unknown-outcome case stays fast.
"""

from __future__ import annotations

import base64
import logging
import random
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from jira_standin import JiraStandin
from listeners import (
    HTML_NOT_FOUND,
    JSON_NOT_JIRA,
    NOT_HTTP,
    REDIRECT_TO_METADATA,
    UNAUTHORIZED_TEXT,
    Listener,
    closed_port,
    http_answer,
)

from services.integrations.jira_answers import NOT_JIRA
from services.integrations.jira_client import (
    BulkResult,
    CreatedIssue,
    JiraAuthError,
    JiraClient,
    JiraError,
    JiraUnavailable,
    OutcomeUnknown,
)
from services.integrations.retry import RetryPolicy
from services.kit.outbound import OutboundGuard

pytestmark = pytest.mark.integration

# Reads wait long enough for a loaded machine's stand-in to answer a schema-checked request;
# the read-timeout test hangs the stand-in for longer than that.
TIMEOUT = httpx.Timeout(5, connect=1, read=3.0)


def reaching(jira: JiraStandin) -> OutboundGuard:
    """The outbound guard as the operator sets it for the stand-in: its host:port is the one exception."""
    return OutboundGuard([jira.host])


# Jira's shape, with a field nested deeper than any decoder's stack: skipping it must not crash us.
DEEP_JSON = http_answer(
    "200 OK", b'{"accountId": "a", "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", Content_Type="application/json"
)


class Sleeps(list[float]):
    """Stands in for asyncio.sleep: remembers each wait instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def issue(summary: str, label: str, **fields: Any) -> dict[str, Any]:
    return {
        "fields": {
            "project": {"key": "PROJ"},
            "issuetype": {"name": "Task"},
            "summary": summary,
            "labels": [label],
            **fields,
        }
    }


def _basic(email: str, token: str) -> str:
    """The credentials as they travel in the Authorization header."""
    return base64.b64encode(f"{email}:{token}".encode()).decode()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(jira: JiraStandin, sleeps: Sleeps) -> AsyncIterator[JiraClient]:
    email, token = jira.auth
    async with JiraClient.connect(
        jira.base_url, email, token, guard=reaching(jira), timeout=TIMEOUT, sleep=sleeps, rng=random.Random(5)
    ) as client:
        yield client


async def test_a_created_issue_is_found_by_its_label(client: JiraClient) -> None:
    created = await client.create_issue(issue("Ship it", "idea-a1"))

    found = await client.search_by_labels("PROJ", ["idea-a1"])

    assert [(f.id, f.key, f.labels, f.status_category, f.parent_key) for f in found] == [
        (created.id, created.key, ["idea-a1"], "new", None)
    ]
    assert created.index is None


async def test_search_follows_next_page_tokens_to_the_end(client: JiraClient, jira: JiraStandin) -> None:
    result = await client.create_issues([issue(f"Idea {n}", f"batch-{n % 2}") for n in range(5)])

    found = await client.search_by_labels("PROJ", ["batch-0", "batch-1"], page_size=2)

    assert sorted(f.key for f in found) == sorted(c.key for c in result.created)
    assert jira.calls["searchAndReconsileIssuesUsingJqlPost"] == 3


async def test_a_bulk_create_reports_which_elements_failed_and_which_issue_each_other_element_became(
    client: JiraClient, jira: JiraStandin
) -> None:
    epic = await client.create_issue(
        {"fields": {"project": {"key": "PROJ"}, "issuetype": {"name": "Epic"}, "summary": "Phase 1"}}
    )
    jira.fail_bulk_elements({7, 31})

    result = await client.create_issues([issue(f"Idea {n}", f"idea-{n}", parent={"key": epic.key}) for n in range(50)])

    assert isinstance(result, BulkResult)
    assert [(f.index, f.status) for f in result.failed] == [(7, 400), (31, 400)]
    assert all(f.field_errors and f.messages == [] for f in result.failed)
    assert [c.index for c in result.created] == [n for n in range(50) if n not in (7, 31)]
    assert all(jira.issue(c.key)["fields"]["labels"] == [f"idea-{c.index}"] for c in result.created)


async def test_a_bulk_create_where_every_element_fails_is_a_result_not_an_error(client: JiraClient) -> None:
    result = await client.create_issues(
        [{"fields": {"project": {"key": "PROJ"}, "issuetype": {"name": "Nope"}, "summary": "x"}}]
    )

    assert result.created == []
    assert [(f.index, f.status, f.field_errors) for f in result.failed] == [
        (0, 400, {"issuetype": "The issue type selected is invalid."})
    ]


async def test_more_than_fifty_issues_are_refused_before_anything_is_sent(
    client: JiraClient, jira: JiraStandin
) -> None:
    with pytest.raises(ValueError):
        await client.create_issues([issue(f"Idea {n}", "many") for n in range(51)])
    assert jira.calls["createIssues"] == 0


@pytest.mark.parametrize("status", [429, 503])
async def test_a_refusal_with_retry_after_is_waited_for_exactly_then_retried(
    status: int, client: JiraClient, jira: JiraStandin, sleeps: Sleeps
) -> None:
    jira.fail_next(r"^/rest/api/3/issue$", status=status, retry_after=3)

    created = await client.create_issue(issue("After the wait", "idea-w"))

    assert sleeps == [3.0]
    assert [r.status for r in jira.requests] == [status, 201]
    assert jira.issue(created.key)["fields"]["summary"] == "After the wait"


async def test_a_429_without_retry_after_or_a_future_reset_backs_off_with_jitter(
    client: JiraClient, jira: JiraStandin, sleeps: Sleeps
) -> None:
    jira.fail_next(r"/search/jql$", status=429, retry_after=None)  # its X-RateLimit-Reset is this minute, already begun

    assert await client.search_by_labels("PROJ", ["nothing"]) == []
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= RetryPolicy().base


async def test_a_bad_gateway_on_a_search_is_backed_off_within_the_jitter_range(
    client: JiraClient, jira: JiraStandin, sleeps: Sleeps
) -> None:
    jira.fail_next(r"/search/jql$", status=502, retry_after=None, times=2)

    assert await client.search_by_labels("PROJ", ["nothing"]) == []
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 1.0 and 0 <= sleeps[1] <= 2.0


async def test_a_bad_gateway_on_a_create_is_an_unknown_outcome_not_a_retry(
    client: JiraClient, jira: JiraStandin, sleeps: Sleeps
) -> None:
    jira.fail_next(r"^/rest/api/3/issue/bulk$", status=504, retry_after=None)

    with pytest.raises(OutcomeUnknown):
        await client.create_issues([issue("Maybe", "idea-m")])
    assert jira.calls["createIssues"] == 1 and sleeps == []


async def test_retries_stop_after_max_attempts_and_their_log_lines_hold_no_credentials(
    jira: JiraStandin, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    jira.fail_next(r"/myself$", status=503, retry_after=1, times=10)
    email, token = jira.auth
    async with JiraClient.connect(
        jira.base_url,
        email,
        token,
        guard=reaching(jira),
        timeout=TIMEOUT,
        sleep=sleeps,
        retry=RetryPolicy(max_attempts=3),
    ) as client:
        with pytest.raises(JiraUnavailable) as raised:
            await client.myself()
    assert raised.value.status == 503 and raised.value.retry_after == 1.0
    assert sleeps == [1.0, 1.0] and jira.calls["getCurrentUser"] == 3
    assert len([r for r in caplog.records if "retry" in r.getMessage()]) == 2
    assert token not in caplog.text and _basic(email, token) not in caplog.text


@pytest.mark.parametrize("hang_seconds", [0.0, 4.0], ids=["connection dropped", "read timeout"])
async def test_a_create_left_unanswered_raises_outcome_unknown_and_the_issue_is_there_by_label(
    hang_seconds: float, client: JiraClient, jira: JiraStandin, sleeps: Sleeps
) -> None:
    jira.timeout_after_create(1, hang_seconds=hang_seconds)

    with pytest.raises(OutcomeUnknown, match="search by label"):
        await client.create_issue(issue("Maybe made", "idea-u1"))

    assert jira.calls["createIssue"] == 1 and sleeps == []  # never sent twice
    assert [f.labels for f in await client.search_by_labels("PROJ", ["idea-u1"])] == [["idea-u1"]]


async def test_a_connection_refused_is_retried_even_for_a_create_because_nothing_was_sent(sleeps: Sleeps) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    guard = OutboundGuard([f"127.0.0.1:{port}"])
    async with JiraClient.connect(
        f"http://127.0.0.1:{port}",
        "a@b.c",
        "t",
        guard=guard,
        timeout=TIMEOUT,
        sleep=sleeps,
        retry=RetryPolicy(max_attempts=3),
    ) as client:
        with pytest.raises(JiraUnavailable) as raised:
            await client.create_issue(issue("Nowhere", "idea-n"))
    assert raised.value.status is None and len(sleeps) == 2


async def test_a_rejected_create_carries_jiras_field_errors(client: JiraClient) -> None:
    with pytest.raises(JiraError) as raised:
        await client.create_issue(
            {"fields": {"project": {"key": "PROJ"}, "issuetype": {"name": "Nope"}, "summary": "x"}}
        )

    assert raised.value.status == 400
    assert raised.value.field_errors == {"issuetype": "The issue type selected is invalid."}
    assert not isinstance(raised.value, JiraAuthError)


async def test_a_wrong_token_is_an_auth_error_that_never_shows_the_token(
    jira: JiraStandin, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wrong-but-secret-token"
    async with JiraClient.connect(
        jira.base_url, jira.auth[0], secret, guard=reaching(jira), timeout=TIMEOUT, sleep=sleeps
    ) as client:
        with pytest.raises(JiraAuthError) as raised:
            await client.myself()
        shown = " ".join([repr(client), str(raised.value), repr(raised.value), caplog.text])
    assert raised.value.status == 401 and raised.value.messages
    assert secret not in shown and _basic(jira.auth[0], secret) not in shown and sleeps == []


async def test_edit_comment_link_and_the_connection_checks(client: JiraClient, jira: JiraStandin) -> None:
    blocker = await client.create_issue(issue("First", "idea-e1"))
    blocked = await client.create_issue(issue("Second", "idea-e2"))
    note = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Planned"}]}],
    }

    await client.edit_issue(
        blocked.key, {"fields": {"summary": "Second, renamed"}, "update": {"labels": [{"add": "planned"}]}}
    )
    comment_id = await client.add_comment(blocked.key, note)
    await client.link_issues(
        {"type": {"name": "Blocks"}, "inwardIssue": {"key": blocker.key}, "outwardIssue": {"key": blocked.key}}
    )

    assert jira.issue(blocked.key)["fields"]["summary"] == "Second, renamed"
    assert sorted(jira.issue(blocked.key)["fields"]["labels"]) == ["idea-e2", "planned"]
    assert comment_id
    assert jira.blocks() == {(blocker.key, blocked.key)}
    assert (await client.myself()).account_id
    assert (await client.project("PROJ")).key == "PROJ"
    assert isinstance(blocker, CreatedIssue)


async def test_an_unknown_issue_is_a_jira_error_with_its_messages(client: JiraClient) -> None:
    with pytest.raises(JiraError) as raised:
        await client.edit_issue("PROJ-999", {"fields": {"summary": "x"}})
    assert raised.value.status == 404 and raised.value.messages


@pytest.mark.parametrize(
    "answer",
    [HTML_NOT_FOUND, REDIRECT_TO_METADATA, JSON_NOT_JIRA, UNAUTHORIZED_TEXT, NOT_HTTP, b"", DEEP_JSON],
    ids=["html 404", "redirect", "other json", "401 text", "not http", "closed at once", "deep json"],
)
async def test_a_host_that_does_not_answer_as_jira_reads_exactly_like_a_closed_port(
    answer: bytes, sleeps: Sleeps
) -> None:
    # Told apart, these would let a user map what listens where through the server.
    retry = RetryPolicy(max_attempts=1)

    async def outcome(port: int) -> tuple[type, int | None, str]:
        guard = OutboundGuard([f"127.0.0.1:{port}"])
        async with JiraClient.connect(
            f"http://127.0.0.1:{port}", "a@b.c", "t", guard=guard, timeout=TIMEOUT, sleep=sleeps, retry=retry
        ) as client:
            with pytest.raises(JiraError) as raised:
                await client.myself()
        return type(raised.value), raised.value.status, str(raised.value)

    with Listener(answer) as listener:
        answered = await outcome(listener.port)
    assert listener.connections == 1  # it was asked, and answered
    assert answered == await outcome(closed_port()) == (JiraUnavailable, None, NOT_JIRA)


async def test_a_create_answered_not_as_jira_is_an_unknown_outcome_like_a_lost_answer(sleeps: Sleeps) -> None:
    with Listener(HTML_NOT_FOUND) as listener:
        guard = OutboundGuard([listener.host])
        async with JiraClient.connect(
            f"http://{listener.host}", "a@b.c", "t", guard=guard, timeout=TIMEOUT, sleep=sleeps
        ) as client:
            with pytest.raises(OutcomeUnknown) as raised:
                await client.create_issue(issue("Anywhere", "idea-x"))
    assert "internal admin" not in str(raised.value) and "404" not in str(raised.value)


async def test_jiras_error_fields_are_cleaned_and_bounded_before_anyone_sees_them(
    client: JiraClient, jira: JiraStandin
) -> None:
    noisy = {f"customfield_{n}": "\x1b[31mred\x1b[0m\nline two " + "x" * 5000 for n in range(40)}
    noisy["<script>"] = "field name that is no field"
    jira.fail_bulk_elements({0}, status=400, errors=noisy)

    result = await client.create_issues([issue("Noisy", "idea-noisy")])

    [failure] = result.failed
    assert len(failure.field_errors) <= 10
    for name, message in failure.field_errors.items():
        assert len(message) <= 200 and "\x1b" not in message and "\n" not in message
        assert re.fullmatch(r"[A-Za-z0-9_.\[\]-]{1,64}", name), name


async def test_no_redirect_is_followed(sleeps: Sleeps) -> None:
    with Listener(REDIRECT_TO_METADATA) as listener:
        guard = OutboundGuard([listener.host])
        async with JiraClient.connect(
            f"http://{listener.host}",
            "a@b.c",
            "t",
            guard=guard,
            timeout=TIMEOUT,
            sleep=sleeps,
            retry=RetryPolicy(max_attempts=2),
        ) as client:
            with pytest.raises(JiraUnavailable):
                await client.project("PROJ")
    assert listener.connections == 2 and all(b"/rest/api/3/project/PROJ" in first for first in listener.received)
