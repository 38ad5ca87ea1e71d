"""How the stand-in shows its state on the wire, in the shapes of the official examples."""

from __future__ import annotations

from typing import Any

from .state import (
    CATEGORIES,
    COMPONENTS,
    CUSTOM_FIELDS,
    ISSUE_TYPES,
    PRIORITIES,
    TRANSITIONS,
    Issue,
    IssueType,
    JiraState,
    Link,
    Project,
    Status,
    User,
)

NAVIGABLE = (
    "summary",
    "description",
    "environment",
    "labels",
    "issuetype",
    "project",
    "parent",
    "priority",
    "components",
    "status",
    "created",
    "updated",
    "duedate",
    "assignee",
    "reporter",
    "issuelinks",
    "comment",
    *CUSTOM_FIELDS,
)


def wanted_fields(raw: list[str] | None, default: tuple[str, ...]) -> list[str]:
    """Jira's `fields` parameter: names, `*all`, `*navigable`, and `-name` to leave one out."""
    names = [n.strip() for item in (raw or list(default)) for n in item.split(",") if n.strip()]
    chosen: list[str] = []
    for name in names:
        if name in ("*all", "*navigable"):
            chosen.extend(NAVIGABLE)
        elif not name.startswith("-"):
            chosen.append(name)
    excluded = {name[1:] for name in names if name.startswith("-")}
    return [name for name in dict.fromkeys(chosen) if name not in excluded]


def category(name: str, base: str) -> dict[str, Any]:
    found = CATEGORIES[name]
    return {"self": f"{base}/rest/api/3/statuscategory/{found['id']}", **found}


def status(value: Status, base: str) -> dict[str, Any]:
    return {
        "self": f"{base}/rest/api/3/status/{value.id}",
        "id": value.id,
        "name": value.name,
        "description": "",
        "iconUrl": f"{base}/images/icons/statuses/generic.png",
        "statusCategory": category(value.category, base),
    }


def user(value: User, base: str) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "self": f"{base}/rest/api/3/user?accountId={value.account_id}",
        "accountId": value.account_id,
        "accountType": "atlassian",
        "displayName": value.display_name,
        "active": value.active,
        "timeZone": "Etc/UTC",
        "locale": "en_US",
    }
    if value.email_visible:
        shown["emailAddress"] = value.email
    return shown


def issuetype(value: IssueType, base: str) -> dict[str, Any]:
    return {
        "self": f"{base}/rest/api/3/issuetype/{value.id}",
        "id": value.id,
        "name": value.name,
        "description": "",
        "iconUrl": f"{base}/images/icons/issuetypes/{value.name.lower()}.svg",
        "subtask": value.hierarchy_level < 0,
        "hierarchyLevel": value.hierarchy_level,
    }


def project(value: Project, base: str) -> dict[str, Any]:
    return {
        "self": f"{base}/rest/api/3/project/{value.id}",
        "id": value.id,
        "key": value.key,
        "name": value.name,
        "projectTypeKey": "software",
        "simplified": False,
        "style": "classic",
    }


def project_full(value: Project, base: str) -> dict[str, Any]:
    return {
        **project(value, base),
        "issueTypes": [issuetype(t, base) for t in ISSUE_TYPES],
        "components": [{"self": f"{base}/rest/api/3/component/{k}", "id": k, "name": v} for k, v in COMPONENTS.items()],
    }


def priority(priority_id: str, base: str) -> dict[str, Any]:
    return {"self": f"{base}/rest/api/3/priority/{priority_id}", "id": priority_id, "name": PRIORITIES[priority_id]}


def issue_ref(value: Issue, base: str) -> dict[str, Any]:
    """The short form Jira nests for parents and links."""
    fields: dict[str, Any] = {
        "summary": value.values.get("summary"),
        "status": status(value.status, base),
        "issuetype": issuetype(value.issuetype, base),
    }
    if "priority" in value.values:
        fields["priority"] = priority(value.values["priority"], base)
    return {"id": str(value.id), "key": value.key, "self": f"{base}/rest/api/3/issue/{value.id}", "fields": fields}


def link_type(value: dict[str, str], base: str) -> dict[str, str]:
    return {**value, "self": f"{base}/rest/api/3/issueLinkType/{value['id']}"}


def issuelinks(state: JiraState, value: Issue, base: str) -> list[dict[str, Any]]:
    # On the inward issue the link names the *other* issue as outwardIssue, and vice versa.
    shown = []
    for link in state.links:
        entry = {"id": link.id, "self": f"{base}/rest/api/3/issueLink/{link.id}", "type": link_type(link.type, base)}
        if link.inward_key == value.key:
            shown.append({**entry, "outwardIssue": issue_ref(state.find(link.outward_key), base)})
        elif link.outward_key == value.key:
            shown.append({**entry, "inwardIssue": issue_ref(state.find(link.inward_key), base)})
    return shown


def link(state: JiraState, value: Link, base: str) -> dict[str, Any]:
    return {
        "id": value.id,
        "self": f"{base}/rest/api/3/issueLink/{value.id}",
        "type": link_type(value.type, base),
        "inwardIssue": issue_ref(state.find(value.inward_key), base),
        "outwardIssue": issue_ref(state.find(value.outward_key), base),
    }


def comment(value: dict[str, Any], issue: Issue, base: str) -> dict[str, Any]:
    return {"self": f"{base}/rest/api/3/issue/{issue.id}/comment/{value['id']}", **value}


def issue(
    state: JiraState, value: Issue, base: str, names: list[str], properties: list[str] | None = None
) -> dict[str, Any]:
    """An IssueBean with the chosen fields; `id` alone is Jira's default for search."""
    shown: dict[str, Any] = {
        "expand": "",
        "id": str(value.id),
        "self": f"{base}/rest/api/3/issue/{value.id}",
        "key": value.key,
    }
    fields: dict[str, Any] = {}
    for name in names:
        if name in ("id", "key"):
            continue
        if name == "issuetype":
            fields[name] = issuetype(value.issuetype, base)
        elif name == "project":
            fields[name] = project(value.project, base)
        elif name == "status":
            fields[name] = status(value.status, base)
        elif name == "statuscategorychangedate":
            fields[name] = value.updated
        elif name in ("created", "updated"):
            fields[name] = getattr(value, name)
        elif name == "parent":
            parent = state.issues.get(value.values.get("parent", -1))
            if parent is not None:
                fields[name] = issue_ref(parent, base)
        elif name == "priority":
            fields[name] = priority(value.values["priority"], base) if "priority" in value.values else None
        elif name == "components":
            fields[name] = [
                {"self": f"{base}/rest/api/3/component/{k}", "id": k, "name": COMPONENTS[k]}
                for k in value.values.get(name, [])
            ]
        elif name == "issuelinks":
            fields[name] = issuelinks(state, value, base)
        elif name == "comment":
            comments = [comment(c, value, base) for c in value.comments]
            fields[name] = {"comments": comments, "maxResults": len(comments), "total": len(comments), "startAt": 0}
        elif name in NAVIGABLE:
            fields[name] = value.values.get(name)
    if fields or names != ["id"]:
        shown["fields"] = fields
    if properties:
        shown["properties"] = {k: v for k, v in value.properties.items() if k in properties or "*all" in properties}
    return shown


def transitions(base: str) -> dict[str, Any]:
    return {
        "transitions": [
            {
                "id": tid,
                "name": target.name,
                "to": status(target, base),
                "hasScreen": False,
                "isGlobal": True,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            }
            for tid, target in TRANSITIONS.items()
        ]
    }
