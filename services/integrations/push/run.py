"""Carrying out a push: the operations `plan_operations` lists, against Jira, exactly once.

Jira has no idempotency key, so every issue is found again by its label. A push searches once,
at the start, for every label of the plan (survey.py) and records what an earlier, interrupted
attempt or another connection already made; after a create whose answer was lost it searches
again, for that create's labels only, instead of sending it twice. Each issue is written to the
link table as soon as Jira names it, so a push killed at any moment and run again never makes a
duplicate. Each operation's outcome is kept beside it: the push record says what Jira did.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.integrations import adf, repository
from services.integrations.jira_client import CreatedIssue, JiraClient, JiraError, OutcomeUnknown, unavailable
from services.integrations.payloads import (
    BULK_CREATE_MAX,
    JiraMapping,
    JiraSite,
    blocks_link_body,
    edit_issue_body,
    epic_fields,
    fields_fingerprint,
    idea_label,
    issue_fields,
    phase_label,
    unplanned_edit_body,
)
from services.integrations.plan_source import PlanSnapshot
from services.integrations.planned import PlannedIdea
from services.integrations.push.creates import Creates
from services.integrations.push.site import UnmappedOwner, learn_site
from services.integrations.push.survey import survey
from services.integrations.push_plan import (
    ItemError,
    KnownIdea,
    KnownIssues,
    Operation,
    Outcome,
    operation_key,
    plan_operations,
)

log = logging.getLogger("integrations.push")

Progress = Callable[[dict[str, Any]], Awaitable[None]]
# Raises to stop the push before its next write to Jira: it was cancelled, its plan superseded,
# or this attempt no longer holds its project to itself (the caller's lock).
Checkpoint = Callable[[], Awaitable[object]]
# What an attempt wrote to the link table; an attempt cut short reports these as done.
WRITTEN: frozenset[Outcome] = frozenset({"created", "found", "updated", "linked", "marked_unplanned"})


async def known_issues(conn: asyncpg.Connection, connection_id: UUID) -> KnownIssues:
    links, blocks = await repository.links_of(conn, connection_id)
    return KnownIssues(
        epics={link.item: link.issue_key for link in links if link.kind == "epic"},
        epic_fingerprints={link.item: link.fields_fingerprint for link in links if link.kind == "epic"},
        ideas={
            link.item: KnownIdea(issue_key=link.issue_key, fingerprint=link.fields_fingerprint, planned=link.planned)
            for link in links
            if link.kind == "idea"
        },
        links=frozenset(blocks),
        pushed_labels={(link.kind, link.item): link.pushed_labels for link in links},
    )


class Push:
    """One attempt at a push: the plan, the connection's project and mapping, Jira and the database."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        jira: JiraClient,
        connection: repository.ConnectionRow,
        plan: PlanSnapshot,
        progress: Progress,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.pool, self.jira, self.connection, self.plan = pool, jira, connection, plan
        self.checkpoint = checkpoint
        self.mapping = msgspec.convert(connection.mapping, JiraMapping)
        self.project = connection.project_key
        self.portfolio = plan.portfolio_id
        self.progress = progress
        self.epics: dict[str, str] = {}
        self.issues: dict[str, str] = {}
        self.issue_ids: dict[str, str] = {}  # ids of issues the survey found, by key
        self.operations: list[Operation] = []
        self.site = JiraSite()
        # Owners not made assignee, for the push record; None until the site was read.
        self.unmapped: list[UnmappedOwner] | None = None
        # Each operation's outcome, by `operation_key`, as Jira's answers came in.
        self.outcomes: dict[tuple[str, ...], tuple[Outcome, str | None, ItemError | None]] = {}
        self.pushed_labels: dict[tuple[str, str], tuple[str, ...]] = {}  # as the link table had them

    async def run(self) -> list[Operation]:
        """Carry the plan's operations out; the operations with their outcomes."""
        async with self.pool.acquire() as conn:
            known = await known_issues(conn, self.connection.id)
        self.pushed_labels = known.pushed_labels
        used = {idea.phase for idea in self.plan.ideas}
        phase_keys = [phase.key for phase in self.plan.phases if phase.key in used]
        in_jira, found = await survey(
            self.jira, self.project, self.portfolio, phase_keys, [i.ref for i in self.plan.ideas]
        )
        self.issue_ids = {issue.key: issue.id for issue in found.values()}
        self.site, self.unmapped = await learn_site(
            self.jira, self.plan.ideas, [p for p in self.plan.phases if p.key in used]
        )
        self.operations = plan_operations(
            project_key=self.project, mapping=self.mapping, portfolio_id=self.portfolio, phases=self.plan.phases,
            ideas=self.plan.ideas, dependencies=self.plan.dependencies, known=known, currency=self.plan.currency,
            in_jira=in_jira, site=self.site,
        )  # fmt: skip
        self.epics = {**in_jira.epics, **known.epics}
        self.issues = {**in_jira.ideas, **{ref: idea.issue_key for ref, idea in known.ideas.items()}}
        ideas = {idea.ref: idea for idea in self.plan.ideas}
        phases = {phase.key: phase for phase in self.plan.phases}
        for op in self.operations:
            if op.action == "create_epic" and op.phase is not None:
                await self._create_epic(phases[op.phase])
            elif op.action == "found_in_jira" and op.phase is not None and op.idea is None and op.issue_key:
                await self._record_epic(
                    phases[op.phase], CreatedIssue(self.issue_ids.get(op.issue_key, ""), op.issue_key), "found"
                )
        await self._report("epics")
        creates = Creates(self)
        todo = [ideas[op.idea] for op in self.operations if op.action == "create_issue" and op.idea]
        for start in range(0, len(todo), BULK_CREATE_MAX):
            await creates.batch(todo[start : start + BULK_CREATE_MAX])
            await self._report(f"issues {min(start + BULK_CREATE_MAX, len(todo))}/{len(todo)}")
        for op in self.operations:
            await self._carry_out(op, ideas, phases)
        await self._report("done")
        return self.result()

    async def _carry_out(self, op: Operation, ideas: dict[str, PlannedIdea], phases: dict[str, Any]) -> None:
        if op.action == "update_issue" and op.idea is None and op.phase and op.issue_key:
            await self._update_epic(phases[op.phase], op.issue_key)
        elif op.action == "update_issue" and op.idea and op.issue_key:
            await self._update(ideas[op.idea], op.issue_key)
        elif op.action == "found_in_jira" and op.idea and op.issue_key:
            await self.record_idea(
                ideas[op.idea], CreatedIssue(self.issue_ids.get(op.issue_key, ""), op.issue_key), "found"
            )
        elif op.action in ("create_link", "found_in_jira") and op.blocker and op.blocked:
            await self._link(op.blocker, op.blocked, send=op.action == "create_link")
        elif op.action == "mark_unplanned" and op.idea and op.issue_key:
            await self._mark_unplanned(op.idea, op.issue_key)
        elif op.action == "leave_alone":
            self.outcomes[operation_key(op)] = ("unchanged", op.issue_key, None)

    def result(self, *, unreached: Outcome | None = None) -> list[Operation]:
        """The operations with the outcomes they got so far; those not reached get `unreached`."""
        shown = []
        for op in self.operations:
            outcome, key, error = self.outcomes.get(operation_key(op), (unreached, op.issue_key, None))
            shown.append(msgspec.structs.replace(op, outcome=outcome, issue_key=key, error=error))
        return shown

    def carried_out(self) -> list[Operation]:
        """The operations this attempt wrote to Jira or the link table (all of them once `run` returned)."""
        return [op for op in self.result() if op.outcome in WRITTEN]

    def failed(self) -> list[Operation]:
        """The operations that failed or still wait, with Jira's words and what the user can do."""
        return [op for op in self.result() if op.outcome in ("failed", "pending")]

    async def _report(self, stage: str) -> None:
        failed = sum(1 for outcome, _, _ in self.outcomes.values() if outcome == "failed")
        await self.progress({"stage": stage, "operations": len(self.operations), "errors": failed})

    async def stop_point(self) -> None:
        """Raise if the push must stop before its next write to Jira."""
        if self.checkpoint is not None:
            await self.checkpoint()

    def fields(self, idea: PlannedIdea) -> dict[str, Any]:
        return issue_fields(self.project, self.mapping, idea, self.epics.get(idea.phase), self.portfolio, self.site)

    def epic_fields(self, phase: Any) -> dict[str, Any]:
        return epic_fields(self.project, self.mapping, phase, self.portfolio, self.plan.currency, self.site)

    async def _record(self, *, kind: str, item: str, issue: CreatedIssue, label: str, fields: dict[str, Any],
                      phase: str | None, cost: float | None) -> None:  # fmt: skip
        async with self.pool.acquire() as conn:
            await repository.record_issue(
                conn, self.connection.id, kind=kind, item=item, issue_key=issue.key, issue_id=issue.id, label=label,
                phase=phase, cost=cost, fingerprint=fields_fingerprint(fields), plan_id=UUID(self.plan.plan_id),
                labels=list(fields.get("labels", [])),
            )  # fmt: skip
        (self.epics if kind == "epic" else self.issues)[item] = issue.key

    async def record_idea(self, idea: PlannedIdea, issue: CreatedIssue, outcome: Outcome) -> None:
        """Record an idea's issue in the link table, and what Jira did about it."""
        await self._record(kind="idea", item=idea.ref, issue=issue, label=idea_label(self.portfolio, idea.ref),
                           fields=self.fields(idea), phase=idea.phase, cost=idea.cost)  # fmt: skip
        self.outcomes[("idea", idea.ref)] = (outcome, issue.key, None)

    def fail(self, key: tuple[str, ...], error: ItemError, *, outcome: Outcome = "failed") -> None:
        """Note an operation Jira refused (or one that waits), with what the user can do."""
        self.outcomes[key] = (outcome, None, error)
        log.warning("push item %s: %s", "/".join(key), outcome, extra={"fields": {"status": error.status}})

    async def _record_epic(self, phase: Any, issue: CreatedIssue, outcome: Outcome) -> None:
        fields = self.epic_fields(phase)
        await self._record(kind="epic", item=phase.key, issue=issue, label=phase_label(self.portfolio, phase.key),
                           fields=fields, phase=phase.key, cost=None)  # fmt: skip
        self.outcomes[("epic", phase.key)] = (outcome, issue.key, None)

    async def _create_epic(self, phase: Any) -> None:
        label = phase_label(self.portfolio, phase.key)
        fields = self.epic_fields(phase)
        await self.stop_point()
        issue = await Creates(self).one(fields, label)
        await self._record_epic(phase, issue, "created")

    async def _update(self, idea: PlannedIdea, key: str) -> None:
        await self.stop_point()
        try:
            before = self.pushed_labels.get(("idea", idea.ref), ())
            await self.jira.edit_issue(key, edit_issue_body(self.fields(idea), pushed_before=before))
        except JiraError as exc:
            if unavailable(exc):
                raise  # not this idea's fault: the push waits for Jira and tries again
            remedy = "Fix what Jira names (in Jira, or in the connection's mapping), then push again."
            self.fail(
                ("idea", idea.ref),
                ItemError(status=exc.status, messages=list(exc.messages), fields=dict(exc.field_errors), remedy=remedy),
            )
            return
        await self.record_idea(idea, CreatedIssue(id=self.issue_ids.get(key, ""), key=key), "updated")

    async def _update_epic(self, phase: Any, key: str) -> None:
        fields = self.epic_fields(phase)
        await self.stop_point()
        before = self.pushed_labels.get(("epic", phase.key), ())
        await self.jira.edit_issue(key, edit_issue_body(fields, pushed_before=before))
        await self._record_epic(phase, CreatedIssue(id="", key=key), "updated")

    async def _link(self, blocker: str, blocked: str, *, send: bool) -> None:
        key = ("link", blocker, blocked)
        missing = [ref for ref in (blocker, blocked) if ref not in self.issues]
        if missing:
            # The link waits for its ends instead of disappearing: the next push makes it.
            remedy = f"waits for the issue of {' and '.join(missing)}; push again once Jira has taken it"
            self.fail(
                key,
                ItemError(messages=[f"{' and '.join(missing)} is not in Jira yet"], remedy=remedy),
                outcome="pending",
            )
            return
        if send:
            await self.stop_point()
            await self.jira.link_issues(blocks_link_body(self.issues[blocker], self.issues[blocked]))
        async with self.pool.acquire() as conn:
            await repository.record_blocks(conn, self.connection.id, blocker, blocked)
        self.outcomes[key] = ("linked" if send else "found", None, None)

    async def _mark_unplanned(self, ref: str, key: str) -> None:
        await self.stop_point()
        await self.jira.edit_issue(key, unplanned_edit_body())
        try:
            await self.jira.add_comment(key, adf.unplanned_comment(ref))
        except OutcomeUnknown:
            log.warning("comment on %s may not have been added", key)
        async with self.pool.acquire() as conn:
            await repository.mark_unplanned(conn, self.connection.id, ref)
        self.outcomes[("idea", ref)] = ("marked_unplanned", key, None)
