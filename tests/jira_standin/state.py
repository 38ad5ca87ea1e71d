"""What the stand-in Jira remembers, and the rules Jira applies to it.

Field rules and error texts follow CONTRACT.md (§2, and the real bodies in its examples).
Links are stored as Jira models them: `{type, inwardIssue, outwardIssue}` reads
"inwardIssue <type.outward> outwardIssue", so for Blocks the *inward* issue blocks the
*outward* one (the direction trap of CONTRACT.md §2.3).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import contract, jql

NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
NOT_STRING = "Operation value must be a string"
ISSUE_MISSING = "Issue does not exist or you do not have permission to see it."

CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: str


STATUSES = (
    Status("10000", "To Do", "new"),
    Status("3", "In Progress", "indeterminate"),
    Status("10001", "Done", "done"),
)
TRANSITIONS = {"11": STATUSES[0], "21": STATUSES[1], "31": STATUSES[2]}  # global transitions, as in a simple workflow


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    hierarchy_level: int


ISSUE_TYPES = (
    IssueType("10000", "Epic", 1),
    IssueType("10001", "Task", 0),
    IssueType("10002", "Story", 0),
    IssueType("10003", "Subtask", -1),
)
LINK_TYPES = (
    {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
    {"id": "10001", "name": "Cloners", "inward": "is cloned by", "outward": "clones"},
    {"id": "10002", "name": "Duplicate", "inward": "is duplicated by", "outward": "duplicates"},
    {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
)
PRIORITIES = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low", "5": "Lowest"}
COMPONENTS = {"10000": "Backend", "10001": "Frontend"}
# Custom fields: a textfield stays a string on v3, a textarea needs ADF (CONTRACT.md §1).
CUSTOM_FIELDS = {
    "customfield_10050": ("Idea ID", "string"),
    "customfield_10051": ("Score", "number"),
    "customfield_10052": ("Rationale", "adf"),
    # Jira Software's "Start date" (a date picker); its id differs per site, so it is found by name.
    "customfield_10015": ("Start date", "date"),
}


class JiraError(Exception):
    """An answer Jira gives with an ErrorCollection body."""

    def __init__(self, status: int, errors: dict[str, str] | None = None, messages: list[str] | None = None) -> None:
        super().__init__(status, errors, messages)
        self.status = status
        self.body = {"errorMessages": messages or [], "errors": errors or {}}


class ContractViolation(JiraError):
    """A request the official schemas reject: Jira answers 400 and the test must fail."""

    def __init__(self, problems: list[str], errors: dict[str, str] | None = None) -> None:
        super().__init__(400, errors, None if errors else problems)
        self.problems = problems


@dataclass(frozen=True)
class Project:
    id: str
    key: str
    name: str


@dataclass
class Issue:
    id: int
    key: str
    project: Project
    issuetype: IssueType
    status: Status
    created: str
    updated: str
    values: dict[str, Any] = field(default_factory=dict)  # summary, description, labels, parent id, ...
    properties: dict[str, Any] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class User:
    account_id: str
    email: str
    display_name: str
    active: bool = True
    email_visible: bool = False  # most accounts hide their address from other users


@dataclass(frozen=True)
class Link:
    id: str
    type: dict[str, str]
    inward_key: str  # for Blocks: this issue blocks `outward_key`
    outward_key: str


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        found = value.get("key") or value.get("id")
        return str(found) if found is not None else None
    return None


class JiraState:
    def __init__(self, project_keys: tuple[str, ...]) -> None:
        self.projects = {key: Project(str(10000 + n), key, f"Project {key}") for n, key in enumerate(project_keys)}
        # Per site: a site without Jira Software's "Start date" has no such field at all.
        self.custom_fields = dict(CUSTOM_FIELDS)
        self.users: dict[str, User] = {}  # by accountId
        self._user_ids = itertools.count(1)
        self.issues: dict[int, Issue] = {}
        self.links: list[Link] = []
        self._issue_ids = itertools.count(10001)
        self._link_ids = itertools.count(10100)
        self._comment_ids = itertools.count(10200)
        self._numbers = {key: itertools.count(1) for key in project_keys}

    # -- lookups ---------------------------------------------------------------------------
    def find(self, id_or_key: str, *, field_name: str | None = None) -> Issue:
        wanted = id_or_key.upper()
        for issue in self.issues.values():
            if str(issue.id) == wanted or issue.key == wanted:
                return issue
        if field_name:
            raise JiraError(400, {field_name: f"Could not find issue by id or key: {id_or_key}"})
        raise JiraError(404, messages=[ISSUE_MISSING])

    def project(self, id_or_key: str) -> Project:
        for project in self.projects.values():
            if id_or_key in (project.id, project.key) or id_or_key.upper() == project.key:
                return project
        raise JiraError(404, messages=[f"No project could be found with key '{id_or_key}'."])

    # -- writes ----------------------------------------------------------------------------
    def create(self, body: dict[str, Any]) -> Issue:
        fields = dict(body.get("fields") or {})
        errors: dict[str, str] = {}
        project = issuetype = None
        ref = fields.pop("project", None)
        if _ref(ref) is None:
            errors["project"] = "Specify a valid project ID or key"
        else:
            project = next((p for p in self.projects.values() if _ref(ref) in (p.id, p.key)), None)
            if project is None:
                errors["project"] = "Specify a valid project ID or key"
        ref = fields.pop("issuetype", None)
        if not isinstance(ref, dict):
            errors["issuetype"] = "Specify an issue type"
        else:
            issuetype = next((t for t in ISSUE_TYPES if ref.get("id") == t.id or ref.get("name") == t.name), None)
            if issuetype is None:
                errors["issuetype"] = "The issue type selected is invalid."
        if "summary" not in fields and "summary" not in (body.get("update") or {}):
            errors["summary"] = "You must specify a summary of the issue."
        if errors:
            raise JiraError(400, errors)
        assert project is not None and issuetype is not None
        values = self._values({"labels": []}, fields, body.get("update") or {}, project, issuetype)
        stamp = now()
        issue = Issue(
            id=next(self._issue_ids),
            key=f"{project.key}-{next(self._numbers[project.key])}",
            project=project,
            issuetype=issuetype,
            status=STATUSES[0],
            created=stamp,
            updated=stamp,
            values=values,
            properties={p["key"]: p.get("value") for p in body.get("properties") or [] if "key" in p},
        )
        if (body.get("transition") or {}).get("id"):
            issue.status = self._transition_target(str(body["transition"]["id"]))
        self.issues[issue.id] = issue
        return issue

    def edit(self, issue: Issue, body: dict[str, Any]) -> None:
        fields = dict(body.get("fields") or {})
        for fixed in ("project", "issuetype"):
            if fixed in fields:
                raise JiraError(
                    400, {fixed: f"Field '{fixed}' cannot be set. It is not on the appropriate screen, or unknown."}
                )
        issue.values = self._values(
            dict(issue.values), fields, body.get("update") or {}, issue.project, issue.issuetype, issue
        )
        issue.updated = now()

    def transition(self, issue: Issue, transition_id: str) -> Status:
        issue.status = self._transition_target(transition_id)
        issue.updated = now()
        return issue.status

    def _transition_target(self, transition_id: str) -> Status:
        if transition_id not in TRANSITIONS:
            raise JiraError(400, messages=[f"Transition id '{transition_id}' is not valid for this issue."])
        return TRANSITIONS[transition_id]

    def link(self, body: dict[str, Any]) -> Link:
        wanted = body["type"]
        link_type = next(
            (t for t in LINK_TYPES if wanted.get("id") == t["id"] or wanted.get("name") == t["name"]), None
        )
        if link_type is None:
            raise JiraError(404, messages=["No issue link type with name or id found."])
        inward = self.find(_ref(body["inwardIssue"]) or "")
        outward = self.find(_ref(body["outwardIssue"]) or "")
        for existing in self.links:  # a duplicate request still answers 201 (CONTRACT.md §2.3)
            if (existing.type["id"], existing.inward_key, existing.outward_key) == (
                link_type["id"],
                inward.key,
                outward.key,
            ):
                return existing
        created = Link(str(next(self._link_ids)), link_type, inward.key, outward.key)
        self.links.append(created)
        return created

    def add_comment(self, issue: Issue, body: dict[str, Any]) -> dict[str, Any]:
        comment = {"id": str(next(self._comment_ids)), "body": body["body"], "created": now(), "updated": now()}
        issue.comments.append(comment)
        return comment

    def _values(
        self,
        values: dict[str, Any],
        fields: dict[str, Any],
        update: dict[str, Any],
        project: Project,
        issuetype: IssueType,
        issue: Issue | None = None,
    ) -> dict[str, Any]:
        errors: dict[str, str] = {}
        problems: list[str] = []
        for name in set(fields) & set(update):
            errors[name] = f"Field '{name}' cannot be set in both 'fields' and 'update'."
        operations = [(name, "set", value) for name, value in fields.items()]
        for name, ops in update.items():
            for op in ops:
                operations.extend((name, verb, value) for verb, value in op.items())
        for name, verb, value in operations:
            try:
                self._apply(values, name, verb, value, project, issuetype, issue, problems)
            except JiraError as error:
                errors.update(error.body["errors"])
        if problems:
            raise ContractViolation(problems, errors)
        if errors:
            raise JiraError(400, errors)
        return values

    def _apply(
        self,
        values: dict[str, Any],
        name: str,
        verb: str,
        value: Any,
        project: Project,
        issuetype: IssueType,
        issue: Issue | None,
        problems: list[str],
    ) -> None:
        kind = self.custom_fields[name][1] if name in self.custom_fields else None
        if name in ("description", "environment") or kind == "adf":
            if value is not None and (found := contract.adf_errors(value)):
                problems.extend(f"fields.{name}: {p}" for p in found)
                raise JiraError(400, {name: NOT_ADF})
            values[name] = value
        elif name == "summary":
            if not isinstance(value, str) or not value.strip():
                raise JiraError(
                    400,
                    {name: NOT_STRING if not isinstance(value, str) else "You must specify a summary of the issue."},
                )
            if len(value) > 255:
                raise JiraError(400, {name: "Summary must be less than 255 characters."})
            values[name] = value
        elif name == "labels":
            items = value if isinstance(value, list) else [value]
            for label in items:
                if not isinstance(label, str) or " " in label:
                    raise JiraError(400, {name: f"The label '{label}' contains spaces which is invalid."})
            current = list(values.get("labels", []))
            if verb == "set":
                current = list(dict.fromkeys(items))
            elif verb == "add":
                current += [label for label in items if label not in current]
            elif verb == "remove":
                current = [label for label in current if label not in items]
            values["labels"] = current
        elif name == "parent":
            values.pop("parent", None)
            if isinstance(value, dict) and (value.get("none") is True or value == {}):
                return
            if not isinstance(value, dict):
                raise JiraError(400, {name: "data was not an object"})
            parent = self.find(_ref(value) or "", field_name="parent")
            if parent.project != project:
                raise JiraError(400, {name: "Parent and child must be in the same project."})
            if parent.issuetype.hierarchy_level != issuetype.hierarchy_level + 1 or (issue and parent.id == issue.id):
                raise JiraError(400, {name: "Given parent work item does not belong to appropriate hierarchy."})
            values["parent"] = parent.id
        elif name == "priority":
            chosen = next(
                (
                    k
                    for k, v in PRIORITIES.items()
                    if isinstance(value, dict) and (value.get("id") == k or value.get("name") == v)
                ),
                None,
            )
            if chosen is None:
                raise JiraError(400, {name: "Specify the Priority (id or name) in the valid format"})
            values[name] = chosen
        elif name == "components":
            items = value if isinstance(value, list) else [value]
            ids = []
            for item in items:
                found = next(
                    (
                        k
                        for k, v in COMPONENTS.items()
                        if isinstance(item, dict) and (item.get("id") == k or item.get("name") == v)
                    ),
                    None,
                )
                if found is None:
                    raise JiraError(400, {name: f"Component with id '{_ref(item)}' does not exist."})
                ids.append(found)
            current = list(values.get(name, []))
            values[name] = (
                ids
                if verb == "set"
                else [c for c in current if c not in ids]
                if verb == "remove"
                else current + [i for i in ids if i not in current]
            )
        elif name == "duedate":
            try:
                datetime.strptime(value, "%Y-%m-%d")
            except (TypeError, ValueError):
                raise JiraError(400, {name: "Error parsing date string: " + str(value)}) from None
            values[name] = value
        elif name in ("assignee", "reporter"):
            if value is not None and not isinstance(value, dict):
                raise JiraError(400, {name: "data was not an object"})
            account = value.get("accountId") if value else None
            if account is not None and (account not in self.users or not self.users[account].active):
                raise JiraError(400, {name: f"User '{account}' cannot be assigned issues."})
            values[name] = value
        elif kind == "date":
            try:
                datetime.strptime(value, "%Y-%m-%d")
            except (TypeError, ValueError):
                raise JiraError(400, {name: "Error parsing date string: " + str(value)}) from None
            values[name] = value
        elif kind == "string":
            if value is not None and not isinstance(value, str):
                raise JiraError(400, {name: NOT_STRING})
            values[name] = value
        elif kind == "number":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise JiraError(400, {name: "Operation value must be a number"})
            values[name] = value
        else:
            raise JiraError(
                400, {name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."}
            )

    def add_user(self, email: str, display_name: str, *, active: bool = True, email_visible: bool = False) -> str:
        account_id = f"712020:{next(self._user_ids):08d}-0000-4000-8000-000000000000"
        self.users[account_id] = User(account_id, email, display_name, active, email_visible)
        return account_id

    def find_users(self, query: str) -> list[User]:
        """Jira's user search: an exact e-mail address, or the start of a display name or address."""
        wanted = query.strip().lower()
        return [
            u
            for u in self.users.values()
            if u.email.lower() == wanted
            or u.display_name.lower().startswith(wanted)
            or (len(wanted) >= 3 and u.email.lower().startswith(wanted))
        ]

    # -- search ----------------------------------------------------------------------------
    def search(self, query: jql.Query) -> list[Issue]:
        found = [issue for issue in self.issues.values() if all(self._matches(issue, c) for c in query.clauses)]
        for name, descending in reversed(query.order or (("key", False),)):
            if name == "key":
                found.sort(key=lambda i: (i.project.key, int(i.key.rsplit("-", 1)[1])), reverse=descending)
            else:
                found.sort(key=lambda i: (getattr(i, name), i.id), reverse=descending)
        return found

    def _matches(self, issue: Issue, clause: jql.Clause) -> bool:
        wanted = {v.lower() for v in clause.values}
        if clause.field == "labels":
            have = {label.lower() for label in issue.values.get("labels", [])}
        elif clause.field == "project":
            have = {issue.project.key.lower(), issue.project.id}
        elif clause.field == "key":
            have = {issue.key.lower(), str(issue.id)}
        elif clause.field == "issuetype":
            have = {issue.issuetype.name.lower(), issue.issuetype.id}
        elif clause.field == "parent":
            parent = self.issues.get(issue.values.get("parent", -1))
            have = {parent.key.lower(), str(parent.id)} if parent else set()
        elif clause.field == "status":
            have = {issue.status.name.lower(), issue.status.id}
        else:
            category = CATEGORIES[issue.status.category]
            have = {category["key"], category["name"].lower(), str(category["id"])}
        hit = bool(have & wanted)
        return not hit if clause.negated else hit
