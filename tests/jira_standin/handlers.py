"""One function per Jira operation (keyed by the official operationId), answering as CONTRACT.md says.

Bodies arrive already checked against the operation's OpenAPI request schema. What the site
tells about itself (create metadata, fields, project, users, statuses) is in site_handlers.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import contract, jql, render
from .state import (
    LINK_TYPES,
    NOT_ADF,
    ContractViolation,
    Issue,
    JiraError,
)

if TYPE_CHECKING:
    from .server import JiraStandin

MAX_BULK = 50
MAX_PROPERTY = 32768
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    outage_begins: bool = False  # the stand-in goes down once this answer is sent (JiraStandin.down)


@dataclass(frozen=True)
class Request:
    operation: str
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any

    def arg(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, [default])[-1]

    def flag(self, name: str) -> bool:
        return (self.arg(name) or "false").lower() == "true"


Handler = Callable[["JiraStandin", Request], Response]
HANDLERS: dict[str, Handler] = {}


def handles(*operation_ids: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        for operation_id in operation_ids:
            HANDLERS[operation_id] = function
        return function

    return register


def _created(jira: JiraStandin, issue: Issue, with_transition: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": str(issue.id),
        "key": issue.key,
        "self": f"{jira.base_url}/rest/api/3/issue/{issue.id}",
    }
    if with_transition:
        shown["transition"] = {"status": 200, "errorCollection": {"errorMessages": [], "errors": {}}}
    return shown


@handles("createIssue")
def create_issue(jira: JiraStandin, request: Request) -> Response:
    issue = jira.state.create(request.body)
    return Response(201, _created(jira, issue, "transition" in request.body))


@handles("createIssues")
def create_issues(jira: JiraStandin, request: Request) -> Response:
    updates = request.body.get("issueUpdates") or []
    if len(updates) > MAX_BULK:
        raise JiraError(400, messages=[f"Cannot create more than {MAX_BULK} issues in one request."])
    failures = jira._bulk_failures.pop(0) if jira._bulk_failures else {}
    created, errors = [], []
    for index, update in enumerate(updates):
        try:
            if index in failures:
                status, element_errors = failures[index]
                raise JiraError(status, dict(element_errors))
            if (labelled := jira.element_failure(update)) is not None:
                status, body = labelled
                raise JiraError(status, dict(body["errors"]), list(body["errorMessages"]))
            created.append(_created(jira, jira.state.create(update), "transition" in update))
        except ContractViolation as error:
            jira._record(
                request.operation, request.method, request.path, [f"issueUpdates/{index}: {p}" for p in error.problems]
            )
            errors.append({"status": error.status, "elementErrors": error.body, "failedElementNumber": index})
        except JiraError as error:
            errors.append({"status": error.status, "elementErrors": error.body, "failedElementNumber": index})
    # 201 if any element was created, 400 with the same shape when all failed (CONTRACT.md §2.2).
    return Response(201 if created or not updates else 400, {"issues": created, "errors": errors})


@handles("getIssue")
def get_issue(jira: JiraStandin, request: Request) -> Response:
    issue = jira.state.find(request.params["issueIdOrKey"])
    names = render.wanted_fields(request.query.get("fields"), ("*all",))
    properties = (request.arg("properties") or "").split(",") if request.arg("properties") else None
    return Response(200, render.issue(jira.state, issue, jira.base_url, names, properties))


@handles("editIssue")
def edit_issue(jira: JiraStandin, request: Request) -> Response:
    issue = jira.state.find(request.params["issueIdOrKey"])
    jira.state.edit(issue, request.body)  # a `transition` in the body is ignored here, as on Jira
    if request.flag("returnIssue"):
        return Response(200, render.issue(jira.state, issue, jira.base_url, render.wanted_fields(["*all"], ())))
    return Response(204)


@handles("deleteIssue")
def delete_issue(jira: JiraStandin, request: Request) -> Response:
    issue = jira.state.find(request.params["issueIdOrKey"])
    children = [i for i in jira.state.issues.values() if i.values.get("parent") == issue.id]
    if children and any(c.issuetype.hierarchy_level < 0 for c in children) and not request.flag("deleteSubtasks"):
        raise JiraError(
            400,
            messages=[
                f"The issue '{issue.key}' has subtasks. You must specify the 'deleteSubtasks' parameter to delete this issue with subtasks."
            ],
        )
    del jira.state.issues[issue.id]
    jira.state.links = [link for link in jira.state.links if issue.key not in (link.inward_key, link.outward_key)]
    return Response(204)


@handles("getTransitions")
def get_transitions(jira: JiraStandin, request: Request) -> Response:
    jira.state.find(request.params["issueIdOrKey"])
    return Response(200, render.transitions(jira.base_url))


@handles("doTransition")
def do_transition(jira: JiraStandin, request: Request) -> Response:
    issue = jira.state.find(request.params["issueIdOrKey"])
    transition = (request.body.get("transition") or {}).get("id")
    if not transition:
        raise JiraError(400, messages=["Missing 'transition' identifier"])
    if request.body.get("fields") or request.body.get("update"):
        jira.state.edit(issue, {"fields": request.body.get("fields"), "update": request.body.get("update")})
    jira.state.transition(issue, str(transition))
    return Response(204)


@handles("getIssuePropertyKeys")
def property_keys(jira: JiraStandin, request: Request) -> Response:
    issue = jira.state.find(request.params["issueIdOrKey"])
    base = f"{jira.base_url}/rest/api/3/issue/{issue.id}/properties"
    return Response(200, {"keys": [{"key": k, "self": f"{base}/{k}"} for k in issue.properties]})


@handles("getIssueProperty")
def get_property(jira: JiraStandin, request: Request) -> Response:
    issue = jira.state.find(request.params["issueIdOrKey"])
    key = request.params["propertyKey"]
    if key not in issue.properties:
        raise JiraError(404, messages=[f"The property with key '{key}' does not exist."])
    return Response(200, {"key": key, "value": issue.properties[key]})


@handles("setIssueProperty")
def set_property(jira: JiraStandin, request: Request) -> Response:
    issue = jira.state.find(request.params["issueIdOrKey"])
    key = request.params["propertyKey"]
    if len(key) > 255:
        raise JiraError(400, messages=["The property key can not be longer than 255 characters."])
    if len(json.dumps(request.body)) > MAX_PROPERTY:
        raise JiraError(400, messages=[f"The property value can not be longer than {MAX_PROPERTY} characters."])
    existed = key in issue.properties
    issue.properties[key] = request.body
    return Response(200 if existed else 201)


@handles("deleteIssueProperty")
def delete_property(jira: JiraStandin, request: Request) -> Response:
    issue = jira.state.find(request.params["issueIdOrKey"])
    if issue.properties.pop(request.params["propertyKey"], None) is None:
        raise JiraError(404, messages=["The property does not exist."])
    return Response(204)


def _check_adf(value: Any, name: str) -> None:
    if problems := contract.adf_errors(value):
        raise ContractViolation([f"{name}: {p}" for p in problems], {name: NOT_ADF})


@handles("linkIssues")
def link_issues(jira: JiraStandin, request: Request) -> Response:
    comment = request.body.get("comment")
    if comment is not None:
        _check_adf(comment.get("body"), "comment")
    link = jira.state.link(request.body)
    if comment is not None:  # the spec puts it on "the from (outward) issue"
        jira.state.add_comment(jira.state.find(link.outward_key), comment)
    return Response(201)  # no body: Jira says it "returns nothing on the creation of an issue link"


@handles("getIssueLink")
def get_link(jira: JiraStandin, request: Request) -> Response:
    for link in jira.state.links:
        if link.id == request.params["linkId"]:
            return Response(200, render.link(jira.state, link, jira.base_url))
    raise JiraError(404, messages=["No issue link with id exists."])


@handles("deleteIssueLink")
def delete_link(jira: JiraStandin, request: Request) -> Response:
    kept = [link for link in jira.state.links if link.id != request.params["linkId"]]
    if len(kept) == len(jira.state.links):
        raise JiraError(404, messages=["No issue link with id exists."])
    jira.state.links = kept
    return Response(204)


@handles("getIssueLinkTypes")
def link_types(jira: JiraStandin, request: Request) -> Response:
    return Response(200, {"issueLinkTypes": [render.link_type(t, jira.base_url) for t in LINK_TYPES]})


def _token(offset: int, jql_text: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, jql_text]).encode()).decode()


@handles("searchAndReconsileIssuesUsingJql", "searchAndReconsileIssuesUsingJqlPost")
def search(jira: JiraStandin, request: Request) -> Response:
    if request.method == "POST":
        options = dict(request.body)
        fields = options.get("fields")
    else:
        options = {k: v[-1] for k, v in request.query.items()}
        fields = request.query.get("fields")
    jql_text = str(options.get("jql") or "")
    if not jql_text.strip():
        raise JiraError(
            400, messages=["Unbounded JQL queries are not allowed here. Please add a search restriction to your query."]
        )
    offset = 0
    if options.get("nextPageToken"):
        try:
            offset, token_jql = json.loads(base64.urlsafe_b64decode(str(options["nextPageToken"])))
        except ValueError:
            raise JiraError(400, messages=["The provided next page token is invalid or expired."]) from None
        if token_jql != jql_text:
            raise JiraError(400, messages=["The provided next page token is invalid or expired."])
    names = render.wanted_fields(fields, ("id",))
    cap = 5000 if set(names) <= {"id", "key"} else 100  # Jira returns fewer than asked when fields are heavy
    size = max(1, min(int(options.get("maxResults") or 50), cap))
    found = jira.state.search(jql.parse(jql_text))
    page = found[offset : offset + size]
    properties = options.get("properties")
    if isinstance(properties, str):
        properties = properties.split(",")
    body: dict[str, Any] = {
        "issues": [render.issue(jira.state, i, jira.base_url, names, properties) for i in page],
        "isLast": offset + size >= len(found),
    }
    if not body["isLast"]:
        body["nextPageToken"] = _token(offset + size, jql_text)
    return Response(200, body)


@handles("countIssues")
def count_issues(jira: JiraStandin, request: Request) -> Response:
    return Response(200, {"count": len(jira.state.search(jql.parse(str(request.body.get("jql") or ""))))})


@handles("searchForIssuesUsingJql", "searchForIssuesUsingJqlPost")
def search_removed(jira: JiraStandin, request: Request) -> Response:
    return Response(410, {"errorMessages": [SEARCH_REMOVED], "errors": {}})


@handles("bulkFetchIssues")
def bulk_fetch(jira: JiraStandin, request: Request) -> Response:
    wanted = request.body.get("issueIdsOrKeys") or []
    if len(wanted) > 100:
        raise JiraError(400, messages=["The number of issues must not exceed 100."])
    names = render.wanted_fields(request.body.get("fields"), ("*navigable",))
    issues, errors = [], []
    for ref in wanted:
        try:
            issues.append(render.issue(jira.state, jira.state.find(ref), jira.base_url, names))
        except JiraError:
            errors.append(ref)
    return Response(
        200,
        {
            "issues": issues,
            "issueErrors": [{"issueIdOrKey": e, "errorMessages": ["Issue does not exist."]} for e in errors],
        },
    )


@handles("getComments")
def get_comments(jira: JiraStandin, request: Request) -> Response:
    issue = jira.state.find(request.params["issueIdOrKey"])
    comments = [render.comment(c, issue, jira.base_url) for c in issue.comments]
    return Response(200, {"comments": comments, "startAt": 0, "maxResults": len(comments), "total": len(comments)})


@handles("addComment")
def add_comment(jira: JiraStandin, request: Request) -> Response:
    issue = jira.state.find(request.params["issueIdOrKey"])
    if not isinstance(request.body, dict) or "body" not in request.body:
        raise ContractViolation(["addComment: a comment needs a 'body'"], {"comment": "Comment body can not be empty!"})
    _check_adf(request.body["body"], "comment")
    return Response(201, render.comment(jira.state.add_comment(issue, request.body), issue, jira.base_url))


@handles(
    "registerDynamicWebhooks", "getDynamicWebhooksForApp", "deleteWebhookById", "refreshWebhooks", "getFailedWebhooks"
)
def app_only(jira: JiraStandin, request: Request) -> Response:
    # Dynamic webhooks are for Connect and OAuth 2.0 apps only; basic auth is refused (CONTRACT.md §5).
    return Response(403, {"errorMessages": ["Only Connect and OAuth 2.0 apps can use this operation."], "errors": {}})
