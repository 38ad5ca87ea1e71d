"""The Jira operations that describe the site: create metadata, fields, the project and its
issue type hierarchy, users, the server and statuses (one function per operationId).

Registered in handlers.HANDLERS like the issue operations; the server imports this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import render
from .handlers import Request, Response, handles
from .state import ISSUE_TYPES, PRIORITIES, STATUSES, IssueType, JiraError

if TYPE_CHECKING:
    from .server import JiraStandin


def _page(request: Request, items: list[Any], key: str) -> dict[str, Any]:
    start, size = int(request.arg("startAt") or 0), int(request.arg("maxResults") or 50)
    if size > 200:
        raise JiraError(400, messages=["Parameter 'maxResults' must not exceed the limit '200'"])
    return {key: items[start : start + size], "startAt": start, "maxResults": size, "total": len(items)}


@handles("getCreateIssueMetaIssueTypes")
def createmeta_types(jira: JiraStandin, request: Request) -> Response:
    jira.state.project(request.params["projectIdOrKey"])
    types = [{**render.issuetype(t, jira.base_url)} for t in ISSUE_TYPES]
    return Response(200, _page(request, types, "issueTypes"))


def _field(field_id: str, name: str, required: bool, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "fieldId": field_id,
        "key": field_id,
        "name": name,
        "required": required,
        "schema": schema,
        "operations": ["set"] if schema["type"] != "array" else ["add", "set", "remove"],
        "hasDefaultValue": False,
        **extra,
    }


@handles("getCreateIssueMetaIssueTypeId")
def createmeta_fields(jira: JiraStandin, request: Request) -> Response:
    jira.state.project(request.params["projectIdOrKey"])
    issuetype: IssueType | None = next((t for t in ISSUE_TYPES if t.id == request.params["issueTypeId"]), None)
    if issuetype is None:
        raise JiraError(404, messages=["Issue type with id does not exist."])
    fields = [
        _field("project", "Project", True, {"type": "project", "system": "project"}),
        _field("issuetype", "Issue Type", True, {"type": "issuetype", "system": "issuetype"}),
        _field("summary", "Summary", True, {"type": "string", "system": "summary"}),
        _field("description", "Description", False, {"type": "string", "system": "description"}),
        _field("labels", "Labels", False, {"type": "array", "items": "string", "system": "labels"}),
        _field(
            "priority",
            "Priority",
            False,
            {"type": "priority", "system": "priority"},
            allowedValues=[render.priority(p, jira.base_url) for p in PRIORITIES],
        ),
        _field("components", "Components", False, {"type": "array", "items": "component", "system": "components"}),
    ]
    if issuetype.hierarchy_level < 1:
        fields.append(
            _field("parent", "Parent", issuetype.hierarchy_level < 0, {"type": "issuelink", "system": "parent"})
        )
    custom_types = {"string": ("string", "textfield"), "number": ("number", "float"), "adf": ("string", "textarea")}
    custom_types["date"] = ("date", "datepicker")
    for field_id, (name, kind) in jira.state.custom_fields.items():
        json_type, plugin = custom_types[kind]
        fields.append(
            _field(
                field_id,
                name,
                False,
                {
                    "type": json_type,
                    "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{plugin}",
                    "customId": int(field_id.rsplit("_", 1)[1]),
                },
            )
        )
    return Response(200, _page(request, fields, "fields"))


@handles("getProject")
def get_project(jira: JiraStandin, request: Request) -> Response:
    return Response(200, render.project_full(jira.state.project(request.params["projectIdOrKey"]), jira.base_url))


@handles("getHierarchy")
def get_hierarchy(jira: JiraStandin, request: Request) -> Response:
    project = jira.state.project(request.params["projectId"])
    levels = sorted({t.hierarchy_level for t in ISSUE_TYPES}, reverse=True)
    return Response(
        200,
        {
            "projectId": int(project.id),
            "hierarchy": [
                {
                    "level": level,
                    "name": next(t.name for t in ISSUE_TYPES if t.hierarchy_level == level),
                    "issueTypes": [
                        {"id": int(t.id), "name": t.name, "avatarId": 10300}
                        for t in ISSUE_TYPES
                        if t.hierarchy_level == level
                    ],
                }
                for level in levels
            ],
        },
    )


@handles("getFields")
def get_fields(jira: JiraStandin, request: Request) -> Response:
    system = [
        {
            "id": n,
            "key": n,
            "name": n.capitalize(),
            "custom": False,
            "navigable": True,
            "searchable": True,
            "orderable": True,
        }
        for n in (
            "summary",
            "description",
            "labels",
            "issuetype",
            "project",
            "parent",
            "priority",
            "components",
            "status",
        )
    ]
    custom = [
        {"id": k, "key": k, "name": name, "custom": True, "navigable": True, "searchable": True, "orderable": True}
        for k, (name, _) in jira.state.custom_fields.items()
    ]
    return Response(200, system + custom)


@handles("findUsers")
def find_users(jira: JiraStandin, request: Request) -> Response:
    query = request.arg("query")
    if not query and not request.arg("accountId"):
        raise JiraError(400, messages=["The query parameter 'query' or 'accountId' is required."])
    found = (
        jira.state.find_users(query)
        if query
        else [u for u in jira.state.users.values() if u.account_id == request.arg("accountId")]
    )
    limit = int(request.arg("maxResults") or 50)
    return Response(200, [render.user(u, jira.base_url) for u in found[:limit]])


@handles("getCurrentUser")
def myself(jira: JiraStandin, request: Request) -> Response:
    return Response(
        200,
        {
            "self": f"{jira.base_url}/rest/api/3/user?accountId=5b10ac8d82e05b22cc7d4ef5",
            "accountId": "5b10ac8d82e05b22cc7d4ef5",
            "accountType": "atlassian",
            "emailAddress": jira.auth[0],
            "displayName": "Roadmap Robot",
            "active": True,
            "timeZone": "Etc/UTC",
            "locale": "en_US",
        },
    )


@handles("getServerInfo")
def server_info(jira: JiraStandin, request: Request) -> Response:
    return Response(
        200,
        {
            "baseUrl": jira.base_url,
            "deploymentType": "Cloud",
            "serverTitle": "Stand-in Jira",
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "buildNumber": 100000,
            "scmInfo": "57a0ca5b4a0bb0ac5f3fee4764acb1c14e4d7e71",
            "serverTime": "2026-01-01T00:00:00.000+0000",
        },
    )


@handles("getStatuses")
def statuses(jira: JiraStandin, request: Request) -> Response:
    return Response(200, [render.status(s, jira.base_url) for s in STATUSES])
