"""The dry run of a push: what pushing an approved plan to Jira would create, update or link.

Pure: the push job loads what the link table recorded (`KnownIssues`) and what one search of
Jira found by label (`InJira`), asks `plan_operations` what to do, and carries the operations
out in the order given. Running it again on the state those operations leave behind yields only
`leave_alone`, which is what makes a push safe to repeat or resume. Nothing is ever deleted: an
idea dropped from the plan is marked unplanned.

A push writes each operation's `outcome` (what Jira did) beside it; `outcome_counts` and
`final_status` read the record from those, never from what was planned.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

import msgspec

from services.integrations.payloads import JiraMapping, JiraSite, epic_fields, fields_fingerprint, issue_fields
from services.integrations.planned import Dependency, MappingError, PlannedIdea, PlannedPhase

Action = Literal[
    "create_epic", "create_issue", "update_issue", "create_link", "found_in_jira", "leave_alone", "mark_unplanned"
]
ACTIONS: tuple[Action, ...] = (
    "create_epic", "create_issue", "update_issue", "create_link", "found_in_jira", "leave_alone", "mark_unplanned",
)  # fmt: skip
# What Jira did about an operation. `found`: already in Jira (made by an earlier, unrecorded
# attempt or another connection), recorded without a call; `pending`: not done yet (a link
# waiting for a missing end, or work a cancelled push never reached).
Outcome = Literal["created", "found", "updated", "unchanged", "linked", "marked_unplanned", "failed", "pending"]


class KnownIdea(msgspec.Struct, frozen=True, kw_only=True):
    """An idea's issue as the link table recorded it after the last push that touched it."""

    issue_key: str
    fingerprint: str  # fields_fingerprint of the fields last pushed
    planned: bool = True  # False once marked unplanned


class KnownIssues(msgspec.Struct, frozen=True, kw_only=True):
    """What earlier pushes left in Jira, as recorded: epics by phase key, ideas by ref, and
    Blocks links as `(blocker_ref, blocked_ref)`."""

    epics: dict[str, str] = {}
    epic_fingerprints: dict[str, str] = {}  # phase key -> fingerprint of the epic's fields last pushed
    ideas: dict[str, KnownIdea] = {}
    links: frozenset[tuple[str, str]] = frozenset()
    # (kind, item) -> the labels the last push of that epic or idea set on its issue
    pushed_labels: dict[tuple[str, str], tuple[str, ...]] = {}


class InJira(msgspec.Struct, frozen=True, kw_only=True):
    """What one search of Jira by the plan's labels found that the link table may not know.

    `epics` by phase key and `ideas` by ref give issue keys; `parents` an idea issue's parent
    key; `links` the Blocks links between found issues as `(blocker_ref, blocked_ref)`.
    """

    epics: dict[str, str] = {}
    ideas: dict[str, str] = {}
    parents: dict[str, str | None] = {}
    links: frozenset[tuple[str, str]] = frozenset()


class ItemError(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Why an operation failed or waits: Jira's status and words (cleaned), and what the user can do."""

    status: int | None = None
    messages: list[str] = []
    fields: dict[str, str] = {}
    remedy: str = ""


class Operation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One step of a push, JSON-ready for the dry run and the push record.

    `phase` names the epic (create_epic, and an idea's phase), `idea` the idea's ref,
    `issue_key` the existing issue when there is one, `blocker`/`blocked` the refs of a link.
    A push fills in `outcome` (and `issue_key` once Jira names the issue, `error` when it failed).
    """

    action: Action
    phase: str | None = None
    idea: str | None = None
    issue_key: str | None = None
    blocker: str | None = None
    blocked: str | None = None
    detail: str = ""
    outcome: Outcome | None = None
    error: ItemError | None = None


def _check_input(phases: list[PlannedPhase], ideas: list[PlannedIdea]) -> None:
    keys = [phase.key for phase in phases]
    if len(set(keys)) != len(keys):
        raise MappingError("phase keys must be distinct", field="phases")
    refs = [idea.ref for idea in ideas]
    if len(set(refs)) != len(refs):
        raise MappingError("idea refs must be distinct", field="ideas")
    for index, idea in enumerate(ideas):
        if idea.phase not in keys:
            raise MappingError(f"phase {idea.phase!r} is not a phase of the plan", field=f"ideas[{index}].phase")


def _epic_operations(
    phases: list[PlannedPhase], ideas: list[PlannedIdea], known: KnownIssues, wanted: dict[str, str], in_jira: InJira
) -> list[Operation]:
    used = {idea.phase for idea in ideas}
    operations = []
    for phase in phases:
        if phase.key not in used:
            continue  # an empty phase gets no epic: nothing would hang under it
        if phase.key in known.epics and known.epic_fingerprints.get(phase.key, wanted[phase.key]) != wanted[phase.key]:
            # A re-planned budget or spend changes the epic's description: the epic is updated.
            operations.append(
                Operation(
                    action="update_issue",
                    phase=phase.key,
                    issue_key=known.epics[phase.key],
                    detail=f"epic of phase {phase.label} changed",
                )
            )
        elif phase.key in known.epics:
            operations.append(
                Operation(
                    action="leave_alone",
                    phase=phase.key,
                    issue_key=known.epics[phase.key],
                    detail="epic already in Jira",
                )
            )
        elif phase.key in in_jira.epics:
            operations.append(
                Operation(
                    action="found_in_jira",
                    phase=phase.key,
                    issue_key=in_jira.epics[phase.key],
                    detail="epic found in Jira by its label",
                )
            )
        else:
            operations.append(Operation(action="create_epic", phase=phase.key, detail=f"epic for phase {phase.label}"))
    return operations


def _idea_operation(
    idea: PlannedIdea, epic_key: str | None, wanted_fingerprint: str | None, known: KnownIdea | None, in_jira: InJira
) -> Operation:
    common = {"phase": idea.phase, "idea": idea.ref}
    if known is None and idea.ref in in_jira.ideas:
        key = in_jira.ideas[idea.ref]
        if epic_key is not None and in_jira.parents.get(idea.ref) == epic_key:
            return Operation(action="found_in_jira", **common, issue_key=key, detail="found in Jira by its label")
        return Operation(
            action="update_issue",
            **common,
            issue_key=key,
            detail=f"found in Jira by its label, outside the epic of phase {idea.phase}",
        )
    if known is None:
        return Operation(action="create_issue", **common, detail=f"new issue, rank {idea.rank}")
    if wanted_fingerprint is None:
        # Its phase's epic is created by this push, so its parent necessarily changes.
        return Operation(
            action="update_issue",
            **common,
            issue_key=known.issue_key,
            detail=f"moves to the new epic of phase {idea.phase}",
        )
    if not known.planned:
        return Operation(action="update_issue", **common, issue_key=known.issue_key, detail="back in the plan")
    if wanted_fingerprint != known.fingerprint:
        return Operation(
            action="update_issue",
            **common,
            issue_key=known.issue_key,
            detail=f"fields changed since the last push (phase, rank {idea.rank} or content)",
        )
    return Operation(action="leave_alone", **common, issue_key=known.issue_key, detail="unchanged since the last push")


def _link_operations(
    ideas: list[PlannedIdea], dependencies: list[Dependency], known: KnownIssues, in_jira: InJira
) -> list[Operation]:
    planned = {idea.ref for idea in ideas}
    # `idea` requires `on`, so `on` blocks `idea`; links to ideas outside the plan are skipped.
    pairs = {
        (dep.on, dep.idea) for dep in dependencies if dep.on in planned and dep.idea in planned and dep.on != dep.idea
    }
    operations = []
    for blocker, blocked in sorted(pairs):
        if (blocker, blocked) in known.links:
            operations.append(
                Operation(action="leave_alone", blocker=blocker, blocked=blocked, detail="link already in Jira")
            )
        elif (blocker, blocked) in in_jira.links:
            operations.append(
                Operation(action="found_in_jira", blocker=blocker, blocked=blocked, detail="link found in Jira")
            )
        else:
            operations.append(
                Operation(action="create_link", blocker=blocker, blocked=blocked, detail=f"{blocker} blocks {blocked}")
            )
    return operations


def _unplanned_operations(ideas: list[PlannedIdea], known: KnownIssues) -> list[Operation]:
    planned = {idea.ref for idea in ideas}
    operations = []
    for ref in sorted(set(known.ideas) - planned):
        issue = known.ideas[ref]
        if issue.planned:
            operations.append(
                Operation(
                    action="mark_unplanned",
                    idea=ref,
                    issue_key=issue.issue_key,
                    detail="no longer in the plan; labelled, not deleted",
                )
            )
        else:
            operations.append(
                Operation(action="leave_alone", idea=ref, issue_key=issue.issue_key, detail="already marked unplanned")
            )
    return operations


def plan_operations(
    *,
    project_key: str,
    mapping: JiraMapping,
    portfolio_id: str,
    phases: list[PlannedPhase],
    ideas: list[PlannedIdea],
    dependencies: list[Dependency],
    known: KnownIssues,
    currency: str = "",
    in_jira: InJira = InJira(),
    site: JiraSite = JiraSite(),
) -> list[Operation]:
    """Every step of pushing the plan, in the order to carry them out.

    Order: epics (in phase order), then ideas by rank, then Blocks links, then ideas no longer
    planned, so each step finds the issues it refers to already made. What `in_jira` found and
    the link table does not know is `found_in_jira` (recorded, not created), unless an idea's
    issue hangs under another epic than its phase's, which is then updated. After a create or update
    of an idea, record `fields_fingerprint(issue_fields(...))` of the fields actually sent (with
    the resolved epic key): the next plan compares against it.

    Raises `MappingError` naming the field when phases or refs repeat or an idea's phase is
    not a phase of the plan.
    """
    _check_input(phases, ideas)
    wanted_epics = {
        phase.key: fields_fingerprint(epic_fields(project_key, mapping, phase, portfolio_id, currency, site))
        for phase in phases
    }
    operations = _epic_operations(phases, ideas, known, wanted_epics, in_jira)
    epic_keys = {**in_jira.epics, **known.epics}
    for idea in sorted(ideas, key=lambda i: (i.rank, i.ref)):
        epic_key = epic_keys.get(idea.phase)
        wanted = (
            None
            if epic_key is None
            else fields_fingerprint(issue_fields(project_key, mapping, idea, epic_key, portfolio_id, site))
        )
        operations.append(_idea_operation(idea, epic_key, wanted, known.ideas.get(idea.ref), in_jira))
    operations += _link_operations(ideas, dependencies, known, in_jira)
    operations += _unplanned_operations(ideas, known)
    return operations


def count_actions(operations: list[Operation]) -> dict[str, int]:
    """How many operations of each action, every action present (zero when absent), for a dry run's summary."""
    counts = Counter(op.action for op in operations)
    return {action: counts.get(action, 0) for action in ACTIONS}


def operation_key(operation: Operation) -> tuple[str, ...]:
    """What an operation is about: a phase's epic, an idea's issue, or a Blocks link."""
    if operation.blocker is not None and operation.blocked is not None:
        return ("link", operation.blocker, operation.blocked)
    if operation.idea is not None:
        return ("idea", operation.idea)
    return ("epic", operation.phase or "")


def merge_operations(earlier: list[Operation], later: list[Operation]) -> list[Operation]:
    """The operations of a push carried out over several attempts, as one list.

    `earlier` is what attempts cut short by a Jira outage carried out; `later` is what the next
    attempt planned or did. That attempt finds the earlier work in the link table and would
    list it as `leave_alone`: the earlier operation is kept instead, so a push that waited out
    an outage reports what it made as if nothing had stopped it.
    """
    done = {operation_key(op) for op in earlier}
    return earlier + [op for op in later if not (op.action == "leave_alone" and operation_key(op) in done)]


# What each outcome adds to a push's counts; links are counted apart from issues.
_COUNTED: dict[tuple[bool, str], str] = {
    (False, "created"): "created", (False, "found"): "found", (False, "updated"): "updated",
    (False, "unchanged"): "unchanged", (False, "marked_unplanned"): "markedUnplanned",
    (True, "linked"): "linked", (True, "found"): "linksFound", (True, "unchanged"): "linksFound",
}  # fmt: skip
COUNTS = ("created", "found", "updated", "unchanged", "markedUnplanned", "linked", "linksFound", "failed", "toDo")


def outcome_counts(operations: list[Operation]) -> dict[str, int]:
    """What Jira did, from the outcomes a push recorded: issues created, found already in Jira,
    updated, unchanged and marked unplanned; links made and found; operations failed and still to do.

    An operation without an outcome (the push has not reached it) is still to do.
    """
    counts = dict.fromkeys(COUNTS, 0)
    for op in operations:
        if op.outcome == "failed":
            counts["failed"] += 1
        elif op.outcome in (None, "pending"):
            counts["toDo"] += 1
        else:
            counts[_COUNTED[(op.blocker is not None, op.outcome)]] += 1
    return counts


def final_status(operations: list[Operation]) -> Literal["succeeded", "partial"]:
    """`succeeded` when every operation was done, `partial` when any failed or still waits."""
    done = all(op.outcome not in (None, "pending", "failed") for op in operations)
    return "succeeded" if done else "partial"
