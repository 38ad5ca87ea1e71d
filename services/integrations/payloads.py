"""Jira request bodies for pushing an approved plan: what is pushed, its labels and its fields.

Pure (standard library and msgspec only): the push job, the dry run and the tests all build
the very same bodies without a network, as Dispatch's Jira plugin splits `create_issue_fields`
from its transport. Shapes follow shared/jira/CONTRACT.md (REST v3).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any, Literal

import msgspec

from services.integrations import adf
from services.integrations.planned import MappingError, Owner, PlannedIdea, PlannedPhase

# Jira rejects a label with a space and stores at most 255 characters.
LABEL_MAX = 255
SUMMARY_MAX = 255
BULK_CREATE_MAX = 50  # "Creates upto 50 issues" per POST /issue/bulk (CONTRACT.md §2.2)
UNPLANNED_LABEL = "rmap-unplanned"
BLOCKS_LINK_TYPE = "Blocks"

_CUSTOM_FIELD = re.compile(r"^customfield_[0-9]+$")
_CLEAN_REF = re.compile(r"^[a-z0-9-]+$")


def _check_label(label: str, field: str) -> None:
    if not label or any(c.isspace() for c in label) or len(label) > LABEL_MAX:
        raise MappingError(
            f"{label!r} is not a Jira label (non-empty, no spaces, at most {LABEL_MAX} characters)", field=field
        )


class JiraMapping(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """How a plan maps onto one Jira project's issue types, labels, components and fields.

    `priority_by_rank` is read top-down: the first `(up_to_rank, name)` whose `up_to_rank` is at
    least the idea's rank wins; the last entry must have `up_to_rank=None` to catch the rest.
    `phase_field_kind` says whether the phase custom field is a text field (plain string on v3)
    or a single select (`{"value": ...}`).

    Stored and sent as the API shows it, in camelCase (`epicIssueType`); an unknown key is
    refused, so a misspelt one cannot silently fall back to a default.
    """

    epic_issue_type: str = "Epic"
    idea_issue_type: str = "Task"
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    score_field: str | None = None
    phase_field: str | None = None
    phase_field_kind: Literal["text", "select"] = "text"
    priority_by_rank: tuple[tuple[int | None, str], ...] = ((10, "Highest"), (30, "High"), (None, "Medium"))

    def __post_init__(self) -> None:
        for name in ("epic_issue_type", "idea_issue_type"):
            if not getattr(self, name).strip():
                raise MappingError("an issue type name is required", field=name)
        for index, label in enumerate(self.labels):
            _check_label(label, f"labels[{index}]")
            # Our own labels find issues by JQL (case-insensitively); a look-alike would confuse that.
            if label.lower().startswith("rmap-"):
                raise MappingError(
                    "labels starting 'rmap-' are reserved for the planner's own", field=f"labels[{index}]"
                )
        if len(set(self.components)) != len(self.components) or any(not c.strip() for c in self.components):
            raise MappingError("component names must be non-empty and distinct", field="components")
        for name in ("score_field", "phase_field"):
            value = getattr(self, name)
            if value is not None and not _CUSTOM_FIELD.fullmatch(value):
                raise MappingError(f"{value!r} is not a custom field id like 'customfield_10050'", field=name)
        if self.score_field is not None and self.score_field == self.phase_field:
            raise MappingError("score and phase need different custom fields", field="phase_field")
        self._check_priorities()

    def _check_priorities(self) -> None:
        rules = self.priority_by_rank
        if not rules or rules[-1][0] is not None:
            raise MappingError(
                "the last priority rule must have up_to_rank null, so every rank gets one", field="priority_by_rank"
            )
        previous = 0
        for index, (up_to, name) in enumerate(rules):
            where = f"priority_by_rank[{index}]"
            if not name.strip():
                raise MappingError("a priority name is required", field=where)
            if index == len(rules) - 1:
                break
            if up_to is None or up_to <= previous:
                raise MappingError("up_to_rank must be a whole number above the previous rule's", field=where)
            previous = up_to

    def priority_for(self, rank: int) -> str:
        """The priority name for an idea of this rank (1 = best)."""
        return next(name for up_to, name in self.priority_by_rank if up_to is None or rank <= up_to)


class JiraSite(msgspec.Struct, frozen=True, kw_only=True):
    """What a push learnt of the Jira site before writing: the account of each owner's e-mail it
    could map (lower-cased e-mail -> accountId) and the id of the site's "Start date" field, if any.
    Field ids differ per site, so the field is found by its name, never assumed."""

    accounts: dict[str, str] = {}
    start_date_field: str | None = None

    def account_of(self, owner: Owner | None) -> str | None:
        """The Jira account an owner maps to, or None."""
        if owner is None or not owner.email:
            return None
        return self.accounts.get(owner.email.strip().lower())


# -- labels --------------------------------------------------------------------------------


def _short_hash(text: str, length: int = 10) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _portfolio_prefix(portfolio_id: str) -> str:
    # A UUID's first 8 hex digits read well in Jira; anything else is hashed so the prefix is
    # always 8 label-safe characters.
    hex_digits = re.sub(r"[^0-9a-f]", "", portfolio_id.lower())
    head = (
        hex_digits[:8]
        if len(hex_digits) >= 8 and re.fullmatch(r"[0-9a-fA-F-]+", portfolio_id)
        else _short_hash(portfolio_id, 8)
    )
    return f"rmap-{head}"


def _label(portfolio_id: str, kind: str, name: str) -> str:
    prefix = f"{_portfolio_prefix(portfolio_id)}-{kind}-"
    room = LABEL_MAX - len(prefix)
    if _CLEAN_REF.fullmatch(name) and len(name) <= room:
        return prefix + name
    # Sanitising can merge names ("A 1" and "a-1"), and JQL matches labels case-insensitively,
    # so a changed name gets a hash of the original. Clean names never contain "_", so a
    # hashed label can never equal a clean one.
    suffix = "_" + _short_hash(name)
    readable = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[: room - len(suffix)]
    return prefix + readable + suffix


def idea_label(portfolio_id: str, ref: str) -> str:
    """The label that finds an idea's issue by JQL: stable, unique per portfolio, a valid label."""
    return _label(portfolio_id, "i", ref)


def department_label(department: str) -> str | None:
    """The label naming an owner's department: whitespace becomes "-" (a Jira label has no
    spaces); None when nothing is left. A name that would pass for one of our own `rmap-`
    labels gets a `dept-` prefix, so the push's label searches never match it."""
    cleaned = re.sub(r"\s+", "-", department.strip()).strip("-")
    if not cleaned:
        return None
    if cleaned.lower().startswith("rmap-"):
        cleaned = "dept-" + cleaned
    return cleaned[:LABEL_MAX]


def phase_label(portfolio_id: str, phase_key: str) -> str:
    """The label on a phase's epic; its `-p-` part keeps it apart from every idea label."""
    return _label(portfolio_id, "p", phase_key)


# -- fields --------------------------------------------------------------------------------


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def _common(
    project_key: str,
    issue_type: str,
    summary: str,
    description: dict[str, Any],
    labels: list[str],
    mapping: JiraMapping,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "project": {"key": project_key},
        "issuetype": {"name": issue_type},
        "summary": _summary(summary),
        "description": description,
        "labels": list(dict.fromkeys(labels)),
    }
    if mapping.components:
        fields["components"] = [{"name": name} for name in mapping.components]
    return fields


def _phase_value(mapping: JiraMapping, phase_key: str) -> Any:
    # A textfield stays a plain string on v3; a single select takes its option by value.
    return {"value": phase_key} if mapping.phase_field_kind == "select" else phase_key


def epic_fields(
    project_key: str,
    mapping: JiraMapping,
    phase: PlannedPhase,
    portfolio_id: str,
    currency: str,
    site: JiraSite = JiraSite(),
) -> dict[str, Any]:
    """The `fields` of the epic standing for one phase: due when the phase ends, and starting
    when it starts where the site has a "Start date" field."""
    labels = [phase_label(portfolio_id, phase.key), *mapping.labels]
    fields = _common(
        project_key, mapping.epic_issue_type, phase.label, adf.epic_description(phase, currency), labels, mapping
    )
    if mapping.phase_field is not None:
        fields[mapping.phase_field] = _phase_value(mapping, phase.key)
    if phase.end is not None:
        fields["duedate"] = phase.end.isoformat()
    if phase.start is not None and site.start_date_field is not None:
        fields[site.start_date_field] = phase.start.isoformat()
    return fields


def issue_fields(
    project_key: str,
    mapping: JiraMapping,
    idea: PlannedIdea,
    epic_key: str | None,
    portfolio_id: str,
    site: JiraSite = JiraSite(),
) -> dict[str, Any]:
    """The `fields` of an idea's issue; `parent` is its phase's epic (never the deprecated Epic Link).

    The owner is the assignee when `site` maps their e-mail to an account; their department is a
    label; the issue is due when its phase ends."""
    department = department_label(idea.owner.department) if idea.owner and idea.owner.department else None
    labels = [idea_label(portfolio_id, idea.ref), *mapping.labels, *([department] if department else [])]
    fields = _common(project_key, mapping.idea_issue_type, idea.title, adf.idea_description(idea), labels, mapping)
    fields["priority"] = {"name": mapping.priority_for(idea.rank)}
    if (account := site.account_of(idea.owner)) is not None:
        fields["assignee"] = {"accountId": account}
    if idea.due is not None:
        fields["duedate"] = idea.due.isoformat()
    if epic_key is not None:
        fields["parent"] = {"key": epic_key}  # an object: a bare string is a 400 (CONTRACT.md §2.10)
    if mapping.score_field is not None and idea.score is not None:
        fields[mapping.score_field] = idea.score
    if mapping.phase_field is not None:
        fields[mapping.phase_field] = _phase_value(mapping, idea.phase)
    return fields


def fields_fingerprint(fields: dict[str, Any]) -> str:
    """A stable digest of pushed fields: equal fields give equal fingerprints, whatever the key order."""
    encoded = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


# -- request bodies ------------------------------------------------------------------------


def create_issue_body(fields: dict[str, Any]) -> dict[str, Any]:
    """The body of `POST /rest/api/3/issue` (op:createIssue)."""
    return {"fields": fields}


def bulk_create_bodies(list_of_fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bodies of `POST /rest/api/3/issue/bulk`, at most 50 issues each, in the given order.

    Jira reports failures by 0-based `failedElementNumber` within one body, so element `i` of
    body `n` is `list_of_fields[n * 50 + i]`.
    """
    return [
        {"issueUpdates": [{"fields": fields} for fields in list_of_fields[start : start + BULK_CREATE_MAX]]}
        for start in range(0, len(list_of_fields), BULK_CREATE_MAX)
    ]


def edit_issue_body(fields: dict[str, Any], *, pushed_before: Sequence[str] = ()) -> dict[str, Any]:
    """The body of `PUT /rest/api/3/issue/{key}` (op:editIssue) that re-pushes an idea's fields.

    Project and issue type are not edited. Labels go through `update` so labels people added in
    Jira survive; the labels an earlier push set (`pushed_before`) and this one no longer sets,
    such as the owner's old department, are removed, and so is the unplanned label should the
    idea have come back into the plan (a field may be in `fields` or `update`, never both).
    """
    kept = {name: value for name, value in fields.items() if name not in ("project", "issuetype", "labels")}
    labels = list(fields.get("labels", []))
    operations = [{"add": label} for label in labels]
    dropped = [old for old in dict.fromkeys(pushed_before) if old not in labels and old != UNPLANNED_LABEL]
    operations += [{"remove": old} for old in dropped]
    operations.append({"remove": UNPLANNED_LABEL})
    return {"fields": kept, "update": {"labels": operations}}


def unplanned_edit_body() -> dict[str, Any]:
    """The body of `PUT /rest/api/3/issue/{key}` marking an issue no longer planned (never deleted)."""
    return {"update": {"labels": [{"add": UNPLANNED_LABEL}]}}


def blocks_link_body(blocker_key: str, blocked_key: str) -> dict[str, Any]:
    """The body of `POST /rest/api/3/issueLink` saying `blocker_key` blocks `blocked_key`.

    The direction trap (CONTRACT.md §2.3): Jira reads `{type, inwardIssue: A, outwardIssue: B}`
    as "A <type.outward> B", and Blocks' outward phrase is "blocks". So the BLOCKER goes in
    `inwardIssue` and the BLOCKED issue in `outwardIssue`, although the names suggest the
    opposite. Read back, the blocker's `issuelinks` shows `outwardIssue: blocked` ("blocks") and
    the blocked issue's shows `inwardIssue: blocker` ("is blocked by").
    """
    return {
        "type": {"name": BLOCKS_LINK_TYPE},
        "inwardIssue": {"key": blocker_key},
        "outwardIssue": {"key": blocked_key},
    }


# -- delivery status -----------------------------------------------------------------------

# Jira's three real category keys (CONTRACT.md §2.11); the spec's examples "in-flight" and
# "completed" are not real and fall to "unknown" with Jira's own "undefined".
_STATUS_CATEGORIES = frozenset({"new", "indeterminate", "done"})


def status_category(jira_status_category_key: str) -> str:
    """Our delivery status from Jira's `status.statusCategory.key`: "new", "indeterminate" or "done".

    Status names are per workflow and localised, so they are never read; any other key is
    "unknown", which delivery counts treat as not started.
    """
    key = jira_status_category_key.strip().lower()
    return key if key in _STATUS_CATEGORIES else "unknown"
