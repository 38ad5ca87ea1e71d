"""The answers of the Jira Cloud REST v3 calls the client makes, as Structs (shared/jira/CONTRACT.md).

The first ones are what the client returns; the others are the wire shapes it decodes.
An answer that does not decode into its shape did not come from Jira (jira_answers.NOT_JIRA).
"""

from __future__ import annotations

import msgspec

from .jira_answers import ErrorFields


class CreatedIssue(msgspec.Struct, frozen=True):
    """An issue Jira made; `index` is its 0-based element in a bulk create (None for a single one)."""

    id: str
    key: str
    index: int | None = None


class BulkFailure(msgspec.Struct, frozen=True):
    """An element of a bulk create that Jira rejected, with its errorMessages and field errors (cleaned, bounded)."""

    index: int
    status: int
    messages: list[str]
    field_errors: dict[str, str]


class BulkResult(msgspec.Struct, frozen=True):
    """One bulk create: what was made and which elements to fix and send again."""

    created: list[CreatedIssue]
    failed: list[BulkFailure]


class FoundIssue(msgspec.Struct, frozen=True):
    """An issue found by search; `status_category` is `new`, `indeterminate` or `done`.

    `blocks` are the keys of the issues this one blocks (its Blocks links with an
    `outwardIssue`), read when the search asked for `issuelinks`.
    """

    id: str
    key: str
    labels: list[str]
    status_category: str | None
    parent_key: str | None
    status_name: str = ""
    blocks: tuple[str, ...] = ()


class Myself(msgspec.Struct, frozen=True):
    """The account behind the API token."""

    account_id: str = msgspec.field(name="accountId")
    display_name: str = msgspec.field(name="displayName", default="")


class Project(msgspec.Struct, frozen=True):
    """A project the account can see."""

    id: str
    key: str
    name: str


class IssueType(msgspec.Struct, frozen=True):
    """An issue type a project can create, with its level: 1 for epics, 0 for standard issues, -1 subtasks."""

    id: str
    name: str
    hierarchy_level: int = msgspec.field(name="hierarchyLevel", default=0)
    subtask: bool = False


class User(msgspec.Struct, frozen=True):
    """A Jira account as a user search lists it; `emailAddress` is often hidden by the user's privacy settings."""

    accountId: str
    accountType: str = "atlassian"
    active: bool = True
    displayName: str = ""
    emailAddress: str | None = None


class Field(msgspec.Struct, frozen=True):
    """A field of the site (system or custom): its id (`customfield_10015`) and its name."""

    id: str
    name: str = ""
    custom: bool = False


class WireBulkError(msgspec.Struct):
    status: int
    failedElementNumber: int
    elementErrors: ErrorFields = msgspec.field(default_factory=ErrorFields)


class BulkAnswer(msgspec.Struct):
    issues: list[CreatedIssue] = []
    errors: list[WireBulkError] = []


class WireKeyed(msgspec.Struct):
    key: str


class WireStatus(msgspec.Struct):
    name: str = ""
    statusCategory: WireKeyed | None = None


class WireLinkType(msgspec.Struct):
    name: str = ""


class WireLink(msgspec.Struct):
    type: WireLinkType = msgspec.field(default_factory=WireLinkType)
    outwardIssue: WireKeyed | None = None


class WireFields(msgspec.Struct):
    labels: list[str] = []
    status: WireStatus | None = None
    parent: WireKeyed | None = None
    issuelinks: list[WireLink] = []


class WireHit(msgspec.Struct):
    id: str
    key: str = ""
    fields: WireFields = msgspec.field(default_factory=WireFields)


class SearchPage(msgspec.Struct):
    issues: list[WireHit] = []
    nextPageToken: str | None = None


class IssueTypePage(msgspec.Struct):
    issueTypes: list[IssueType] = []
    startAt: int = 0
    total: int = 0
