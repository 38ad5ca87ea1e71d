"""Checking a Jira connection when it is created or changed, so a mistake shows then, not in a push.

In order, and stopping at the first step that finds something wrong:
1. without the network: the secret references are in the operator's space, the site is an
   address the guard allows, the field mapping is well formed;
2. the secrets can be read here;
3. against Jira: the credentials (`myself`), the project, and its issue types for the phases'
   epics and the ideas' issues.

Whatever fails is a 422 naming the field. What Jira said is shown only as Jira's status and a
summary of its own error fields; a site that does not answer as Jira does gets one sentence,
whatever it did (jira_answers.NOT_JIRA).
"""

from __future__ import annotations

from typing import Any

import httpcore
import httpx
import msgspec

from services.integrations.jira_access import JiraAccess
from services.integrations.jira_answers import NOT_JIRA
from services.integrations.jira_client import JiraAuthError, JiraClient, JiraError, JiraUnavailable, OutcomeUnknown
from services.integrations.jira_types import IssueType
from services.integrations.payloads import JiraMapping
from services.integrations.planned import MappingError
from services.integrations.retry import RetryPolicy
from services.kit.outbound import OutboundRefused
from services.kit.problems import FieldProblem, InvalidInput, ServiceUnavailable
from services.kit.secrets import SecretError

# A person waits for this answer: a short look, not the patient retries of a push.
CHECK_RETRY = RetryPolicy(base=0.5, cap=1.0, max_attempts=2, max_total_seconds=2.0)
CHECK_TIMEOUT = httpx.Timeout(10, connect=5)
EPIC_LEVEL, STANDARD_LEVEL = 1, 0


class ConnectionDraft(msgspec.Struct, frozen=True, kw_only=True):
    """A connection as it would be stored: what the check looks at."""

    site_url: str
    project_key: str
    account_email: str
    api_token_ref: str
    webhook_secret_ref: str | None
    mapping: dict[str, Any]


async def check_connection(access: JiraAccess, draft: ConnectionDraft) -> None:
    """Raise InvalidInput (422, naming fields) unless Jira accepts the connection as it is."""
    problems = _reference_problems(access, draft)
    try:
        await access.guard.check(draft.site_url)
    except OutboundRefused as exc:
        problems.append(FieldProblem(field="siteUrl", message=f"siteUrl {exc}"))
    except (httpcore.NetworkError, httpcore.TimeoutException):  # a name that resolves to nothing now
        problems.append(FieldProblem(field="siteUrl", message=NOT_JIRA))
    mapping = _mapping(draft.mapping, problems)
    if not problems:
        problems = _reference_problems(access, draft, read=True)
    if not problems and mapping is not None:
        async with access.client(draft, timeout=CHECK_TIMEOUT, retry=CHECK_RETRY) as jira:
            problems = await _ask_jira(jira, draft, mapping)
    if problems:
        raise InvalidInput("The connection cannot be used: " + "; ".join(p.message for p in problems), errors=problems)


def _reference_problems(access: JiraAccess, draft: ConnectionDraft, *, read: bool = False) -> list[FieldProblem]:
    """What is wrong with the secret references: outside the space, or (`read`) unreadable here."""
    problems = []
    for wire, reference in (("apiTokenRef", draft.api_token_ref), ("webhookSecretRef", draft.webhook_secret_ref)):
        if reference is None:
            continue
        try:
            if read:
                access.secret(reference)
            else:
                access.check_reference(reference)
        except SecretError as exc:
            problems.append(FieldProblem(field=wire, message=f"{wire}: {exc}" + (" in this service" if read else "")))
    return problems


def _mapping(raw: dict[str, Any], problems: list[FieldProblem]) -> JiraMapping | None:
    try:
        return parse_mapping(raw)
    except InvalidInput as exc:
        problems.extend(exc.errors)
        return None


def parse_mapping(raw: dict[str, Any]) -> JiraMapping:
    """The connection's field mapping, or InvalidInput naming the field (`mapping.labels[0]`) at fault."""
    try:
        return msgspec.convert(raw, JiraMapping)
    except MappingError as exc:
        field, message = (f"mapping.{_camel(exc.field)}" if exc.field else "mapping"), str(exc)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `$")
        field = "mapping" + path.rstrip("`")
    raise InvalidInput(
        f"The connection's mapping cannot be used: {field}: {message}",
        errors=[FieldProblem(field=field, message=message)],
    )


async def _ask_jira(jira: JiraClient, draft: ConnectionDraft, mapping: JiraMapping) -> list[FieldProblem]:
    try:
        await jira.myself()
    except JiraAuthError as exc:
        message = f"Jira refused accountEmail with the API token apiTokenRef names ({_said(exc)})"
        return [FieldProblem(field="apiTokenRef", message=message)]
    except _UNUSABLE as exc:
        return site_problems(exc)
    try:
        await jira.project(draft.project_key)
        types = {issue_type.name: issue_type for issue_type in await jira.issue_types(draft.project_key)}
    except JiraError as exc:
        if exc.status not in (401, 403, 404) or isinstance(exc, JiraUnavailable):
            return site_problems(exc)
        message = f"Jira has no project {draft.project_key} that accountEmail may see ({_said(exc)})"
        return [FieldProblem(field="projectKey", message=message)]
    except _UNUSABLE as exc:
        return site_problems(exc)
    return _issue_type_problems(types, mapping)


def _issue_type_problems(types: dict[str, IssueType], mapping: JiraMapping) -> list[FieldProblem]:
    problems = []
    for field, name, level, role in (
        ("mapping.epicIssueType", mapping.epic_issue_type, EPIC_LEVEL, "an epic-level type, to hold a phase's ideas"),
        (
            "mapping.ideaIssueType",
            mapping.idea_issue_type,
            STANDARD_LEVEL,
            "a standard type (a story or task), the child of an epic",
        ),
    ):
        found = types.get(name)
        if found is None:
            problems.append(
                FieldProblem(
                    field=field, message=f"the project has no issue type {name!r} that accountEmail may create"
                )
            )
        elif found.hierarchy_level != level:
            problems.append(FieldProblem(field=field, message=f"issue type {name!r} is not {role}"))
    return problems


def site_problems(exc: Exception) -> list[FieldProblem]:
    """The site's problem, told only as far as Jira told it; Jira unavailable is a 503, not the user's mistake.

    Also for a look at Jira a person waits for (a dry run, a delivery refresh)."""
    if isinstance(exc, OutboundRefused):
        return [FieldProblem(field="siteUrl", message=f"siteUrl {exc}")]
    if isinstance(exc, JiraUnavailable) and exc.status is not None:
        raise ServiceUnavailable(f"Jira answered {exc.status}: it cannot be asked now; try again shortly.")
    if isinstance(exc, JiraError) and exc.status is not None:
        return [FieldProblem(field="siteUrl", message=f"Jira answered the check with {_said(exc)}")]
    return [FieldProblem(field="siteUrl", message=NOT_JIRA)]


def _said(exc: JiraError) -> str:
    """Jira's status and the summary of its own error fields (already cleaned and bounded)."""
    details = [*exc.messages, *(f"{field}: {message}" for field, message in exc.field_errors.items())]
    return f"{exc.status}" + (": " + "; ".join(details) if details else "")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# What a site that is not (or not now) a usable Jira can lead to, besides Jira's own refusals.
_UNUSABLE = (JiraError, OutcomeUnknown, OutboundRefused, httpx.HTTPError)
