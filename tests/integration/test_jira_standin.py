"""The stand-in Jira behaves as the contract (shared/jira/CONTRACT.md) says, over real HTTP."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jira_standin import JiraStandin, sign, status_change_delivery
from jira_standin.contract import CONTRACT_DIR, schema_errors

pytestmark = pytest.mark.integration


def adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def issue_fields(summary: str, *, kind: str = "Task", **extra: Any) -> dict[str, Any]:
    return {"fields": {"project": {"key": "PROJ"}, "issuetype": {"name": kind}, "summary": summary, **extra}}


@pytest.fixture
def client(jira: JiraStandin) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=jira.base_url, auth=jira.auth, timeout=5) as client:
        yield client


def create(client: httpx.Client, summary: str, **extra: Any) -> str:
    response = client.post("/rest/api/3/issue", json=issue_fields(summary, **extra))
    assert response.status_code == 201, response.text
    return response.json()["key"]


def test_create_issue_with_an_adf_description_answers_created_issue_only(client: httpx.Client) -> None:
    response = client.post(
        "/rest/api/3/issue", json=issue_fields("Ship it", description=adf("Why it matters"), labels=["idea-7"])
    )

    assert response.status_code == 201
    assert schema_errors("CreatedIssue", response.json()) == []
    issue = client.get(f"/rest/api/3/issue/{response.json()['key']}").json()
    assert issue["fields"]["description"] == adf("Why it matters")
    assert issue["fields"]["status"]["statusCategory"]["key"] == "new"
    assert schema_errors("IssueBean", issue) == []


def test_a_body_the_official_schemas_reject_is_a_400_and_a_recorded_violation(
    client: httpx.Client, jira: JiraStandin
) -> None:
    plain = client.post("/rest/api/3/issue", json=issue_fields("Plain", description="not ADF"))
    half_link = client.post(
        "/rest/api/3/issueLink", json={"type": {"name": "Blocks"}, "inwardIssue": {"key": "PROJ-1"}}
    )

    assert plain.status_code == 400
    assert plain.json() == {
        "errorMessages": [],
        "errors": {"description": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"},
    }
    assert half_link.status_code == 400
    violations = jira.clear_violations()
    assert [v.operation for v in violations] == ["createIssue", "linkIssues"]
    assert "'outwardIssue' is a required property" in violations[1].problems[0]


def test_a_jira_rule_broken_is_a_400_error_collection_but_no_violation(client: httpx.Client, jira: JiraStandin) -> None:
    response = client.post("/rest/api/3/issue", json=issue_fields("Orphan", kind="Nope", parent="PROJ-1"))

    assert response.status_code == 400
    assert response.json() == {"errorMessages": [], "errors": {"issuetype": "The issue type selected is invalid."}}
    assert jira.violations == []


def test_bulk_create_partial_failure_lists_created_issues_and_failed_element_numbers(
    client: httpx.Client, jira: JiraStandin
) -> None:
    epic = create(client, "Phase 1", kind="Epic")
    jira.fail_bulk_elements({1})
    updates = [issue_fields(f"Idea {n}", parent={"key": epic}, labels=[f"idea-{n}"]) for n in range(3)]

    response = client.post("/rest/api/3/issue/bulk", json={"issueUpdates": updates})

    assert response.status_code == 201
    body = response.json()
    assert schema_errors("CreatedIssues", body) == []
    assert [client.get(f"/rest/api/3/issue/{i['key']}").json()["fields"]["summary"] for i in body["issues"]] == [
        "Idea 0",
        "Idea 2",
    ]
    assert [(e["failedElementNumber"], e["status"]) for e in body["errors"]] == [(1, 400)]
    assert set(body["errors"][0]["elementErrors"]) == {"errorMessages", "errors"}


def test_bulk_create_where_every_element_fails_answers_400_with_the_same_shape(client: httpx.Client) -> None:
    response = client.post(
        "/rest/api/3/issue/bulk",
        json={"issueUpdates": [issue_fields("A", kind="Nope"), issue_fields("B", kind="Nope")]},
    )

    assert response.status_code == 400
    assert response.json()["issues"] == []
    assert [e["failedElementNumber"] for e in response.json()["errors"]] == [0, 1]


def test_bulk_create_refuses_more_than_fifty(client: httpx.Client) -> None:
    response = client.post("/rest/api/3/issue/bulk", json={"issueUpdates": [issue_fields(f"I{n}") for n in range(51)]})

    assert response.status_code == 400


def test_search_by_label_pages_with_next_page_token_and_no_total(client: httpx.Client) -> None:
    wanted = {create(client, f"Mine {n}", labels=["push-1"]) for n in range(5)}
    create(client, "Other", labels=["push-2"])
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        body: dict[str, Any] = {
            "jql": 'project = PROJ AND labels = "push-1"',
            "maxResults": 2,
            "fields": ["summary", "labels"],
        }
        if token:
            body["nextPageToken"] = token
        page = client.post("/rest/api/3/search/jql", json=body).json()
        assert "total" not in page and "startAt" not in page
        seen += [issue["key"] for issue in page["issues"]]
        pages += 1
        if page["isLast"]:
            assert "nextPageToken" not in page
            break
        token = page["nextPageToken"]

    assert pages == 3
    assert set(seen) == wanted and len(seen) == 5
    by_get = client.get("/rest/api/3/search/jql", params={"jql": 'labels in ("push-2", "nothing")'}).json()
    assert [set(issue) >= {"id"} for issue in by_get["issues"]] == [True]


def test_search_rejects_unbounded_jql_and_the_removed_endpoint_answers_410(client: httpx.Client) -> None:
    assert client.post("/rest/api/3/search/jql", json={"jql": "order by key desc"}).status_code == 400
    removed = client.get("/rest/api/3/search", params={"jql": "project = PROJ"})
    assert removed.status_code == 410
    assert "/rest/api/3/search/jql" in removed.json()["errorMessages"][0]


def test_blocks_link_reads_inward_issue_blocks_outward_issue(client: httpx.Client, jira: JiraStandin) -> None:
    blocker, blocked = create(client, "Foundation"), create(client, "Building")
    link = {"type": {"name": "Blocks"}, "inwardIssue": {"key": blocker}, "outwardIssue": {"key": blocked}}

    first, again = client.post("/rest/api/3/issueLink", json=link), client.post("/rest/api/3/issueLink", json=link)

    assert (first.status_code, first.content, again.status_code) == (201, b"", 201)
    assert jira.blocks() == {(blocker, blocked)}
    [on_blocker] = client.get(f"/rest/api/3/issue/{blocker}", params={"fields": "issuelinks"}).json()["fields"][
        "issuelinks"
    ]
    [on_blocked] = client.get(f"/rest/api/3/issue/{blocked}", params={"fields": "issuelinks"}).json()["fields"][
        "issuelinks"
    ]
    assert (on_blocker["outwardIssue"]["key"], on_blocker["type"]["outward"]) == (blocked, "blocks")
    assert (on_blocked["inwardIssue"]["key"], on_blocked["type"]["inward"]) == (blocker, "is blocked by")
    assert "inwardIssue" not in on_blocker and "outwardIssue" not in on_blocked


def test_429_with_retry_after_then_success(client: httpx.Client, jira: JiraStandin) -> None:
    jira.fail_next(r"^/rest/api/3/issue$", status=429, retry_after=3)
    jira.fail_next(r"^/rest/api/3/issue$", status=503, retry_after=None)

    limited = client.post("/rest/api/3/issue", json=issue_fields("Busy"))
    unavailable = client.post("/rest/api/3/issue", json=issue_fields("Busy"))
    created = client.post("/rest/api/3/issue", json=issue_fields("Busy"))

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
    assert unavailable.status_code == 503 and "Retry-After" not in unavailable.headers
    assert created.status_code == 201
    assert jira.calls["createIssue"] == 3
    assert [r.status for r in jira.requests] == [429, 503, 201]


def test_a_timeout_after_create_leaves_the_issue_behind_findable_by_label(
    client: httpx.Client, jira: JiraStandin
) -> None:
    jira.timeout_after_create(1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/rest/api/3/issue", json=issue_fields("Lost answer", labels=["idea-42"]))

    jira.timeout_after_create(1, hang_seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            "/rest/api/3/issue/bulk", json={"issueUpdates": [issue_fields("Slow", labels=["idea-43"])]}, timeout=0.2
        )

    found = client.get(
        "/rest/api/3/search/jql", params={"jql": 'labels in ("idea-42", "idea-43")', "fields": "summary"}
    ).json()
    assert sorted(i["fields"]["summary"] for i in found["issues"]) == ["Lost answer", "Slow"]
    assert [r.status for r in jira.requests[:2]] == [None, None]


def test_transitions_move_the_status_category(client: httpx.Client) -> None:
    key = create(client, "Work")
    transitions = client.get(f"/rest/api/3/issue/{key}/transitions").json()["transitions"]
    done = next(t["id"] for t in transitions if t["to"]["statusCategory"]["key"] == "done")

    assert client.post(f"/rest/api/3/issue/{key}/transitions", json={"transition": {"id": done}}).status_code == 204
    status = client.get(f"/rest/api/3/issue/{key}", params={"fields": "status"}).json()["fields"]["status"]
    assert status["statusCategory"]["key"] == "done"


def test_edit_answers_204_and_ignores_a_transition(client: httpx.Client) -> None:
    key = create(client, "Before", labels=["a"])
    body = {
        "update": {"labels": [{"add": "b"}, {"remove": "a"}], "summary": [{"set": "After"}]},
        "transition": {"id": "31"},
    }

    assert client.put(f"/rest/api/3/issue/{key}", json=body).status_code == 204
    fields = client.get(f"/rest/api/3/issue/{key}").json()["fields"]
    assert (fields["summary"], fields["labels"], fields["status"]["statusCategory"]["key"]) == ("After", ["b"], "new")


def test_without_valid_basic_auth_every_call_is_401(jira: JiraStandin) -> None:
    anonymous = httpx.post(f"{jira.base_url}/rest/api/3/issue", json=issue_fields("x"))
    wrong = httpx.get(f"{jira.base_url}/rest/api/3/myself", auth=(jira.auth[0], "wrong-token"))

    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert anonymous.json()["errorMessages"]
    assert jira.state.issues == {}


def test_webhook_signature_matches_the_contract_test_vector() -> None:
    body = (CONTRACT_DIR / "webhook.jira_issue_updated.status_change.body.json").read_bytes()
    headers = (CONTRACT_DIR / "webhook.jira_issue_updated.status_change.headers.txt").read_text()
    expected = next(line.split(": ", 1)[1] for line in headers.splitlines() if line.startswith("X-Hub-Signature:"))

    assert sign(body, "It's a Secret to Everybody") == expected


def test_status_change_webhook_is_signed_and_carries_the_new_category(client: httpx.Client, jira: JiraStandin) -> None:
    key = create(client, "Watched")

    delivery = jira.status_change_webhook(key, "Done", secret="hook-secret")

    assert delivery.headers["X-Hub-Signature"] == sign(delivery.body, "hook-secret")
    payload = delivery.json()
    assert payload["webhookEvent"] == "jira:issue_updated"
    assert payload["issue"]["key"] == key
    assert payload["issue"]["fields"]["status"]["statusCategory"]["key"] == "done"
    assert [(i["field"], i["fromString"], i["toString"]) for i in payload["changelog"]["items"]] == [
        ("status", "To Do", "Done")
    ]
    retried = delivery.retried()
    assert retried.headers["X-Atlassian-Webhook-Identifier"] == delivery.headers["X-Atlassian-Webhook-Identifier"]
    assert retried.headers["X-Atlassian-Webhook-Retry"] == "1"
    unsigned = status_change_delivery(*jira.set_status(key, "In Progress"), secret=None)
    assert "X-Hub-Signature" not in unsigned.headers
    assert json.loads(unsigned.body)["issue"]["fields"]["status"]["statusCategory"]["key"] == "indeterminate"


def test_metadata_endpoints_answer_in_the_official_shapes(client: httpx.Client) -> None:
    types = client.get("/rest/api/3/issue/createmeta/PROJ/issuetypes").json()
    assert schema_errors("PageOfCreateMetaIssueTypes", types) == []
    assert {t["name"]: t["hierarchyLevel"] for t in types["issueTypes"]}["Epic"] == 1
    task = next(t["id"] for t in types["issueTypes"] if t["name"] == "Task")
    fields = client.get(f"/rest/api/3/issue/createmeta/PROJ/issuetypes/{task}").json()
    assert schema_errors("PageOfCreateMetaIssueTypeWithField", fields) == []
    assert client.get("/rest/api/3/issue/createmeta/PROJ/issuetypes", params={"maxResults": 201}).status_code == 400
    assert schema_errors("User", client.get("/rest/api/3/myself").json()) == []
    assert schema_errors("Project", client.get("/rest/api/3/project/PROJ").json()) == []
    assert schema_errors("ServerInformation", client.get("/rest/api/3/serverInfo").json()) == []
    links = client.get("/rest/api/3/issueLinkType").json()
    assert schema_errors("IssueLinkTypes", links) == []


def test_comments_take_adf_bodies(client: httpx.Client, jira: JiraStandin) -> None:
    key = create(client, "Discussed")

    assert (
        client.post(f"/rest/api/3/issue/{key}/comment", json={"body": adf("Pushed by the roadmap")}).status_code == 201
    )
    assert client.post(f"/rest/api/3/issue/{key}/comment", json={"body": "plain"}).status_code == 400
    assert [c["body"] for c in client.get(f"/rest/api/3/issue/{key}/comment").json()["comments"]] == [
        adf("Pushed by the roadmap")
    ]
    assert [v.operation for v in jira.clear_violations()] == ["addComment"]


def test_issue_properties_are_created_then_updated(client: httpx.Client) -> None:
    key = create(client, "Tracked")
    url = f"/rest/api/3/issue/{key}/properties/roadmap.idea"

    assert client.put(url, json={"ideaId": 7}).status_code == 201
    assert client.put(url, json={"ideaId": 8}).status_code == 200
    assert client.get(url).json() == {"key": "roadmap.idea", "value": {"ideaId": 8}}
    assert client.get(f"/rest/api/3/issue/{key.lower()}").json()["key"] == key  # keys match case-insensitively


def test_a_request_whose_client_dies_before_its_body_arrives_is_dropped_not_a_violation(jira: JiraStandin) -> None:
    # A worker killed while sending: the headers are out, the body is not. Jira never sees a request.
    host, port = jira.base_url.removeprefix("http://").split(":")
    auth = "Basic " + base64.b64encode(":".join(jira.auth).encode()).decode()
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(f"POST /rest/api/3/issue HTTP/1.1\r\nHost: jira\r\nAuthorization: {auth}\r\n".encode()
                    + b'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"fields": {"summary": "cut')  # fmt: skip
        raw.shutdown(socket.SHUT_WR)
        answer = raw.recv(1024)  # the stand-in's answer, or b"" once it hangs up without one

    assert answer == b""
    assert jira.violations == [] and jira.requests == []
