"""Carrying out a push: the operations `plan_operations` lists, against Jira, exactly once.

Jira has no idempotency key, so every issue is found again by its label: before a batch of
creates, the push searches for the batch's labels and records what an earlier, interrupted
attempt already made; after a create whose answer was lost it searches again instead of
sending the create twice. Each issue is written to the link table as soon as Jira names it,
so a push killed at any moment and run again never makes a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.integrations import adf, repository
from services.integrations.jira_client import (
    CreatedIssue,
    JiraClient,
    JiraError,
    JiraUnavailable,
    OutcomeUnknown,
    unavailable,
)
from services.integrations.payloads import (
    BULK_CREATE_MAX,
    JiraMapping,
    PlannedIdea,
    blocks_link_body,
    create_issue_body,
    edit_issue_body,
    epic_fields,
    fields_fingerprint,
    idea_label,
    issue_fields,
    phase_label,
    unplanned_edit_body,
)
from services.integrations.plan_source import PlanSnapshot
from services.integrations.push_plan import KnownIdea, KnownIssues, Operation, operation_key, plan_operations

log = logging.getLogger("integrations.push")

# Jira's search catches up with its writes after a moment; after a lost answer the push waits
# this long before searching for what the lost call may have made.
SEARCH_SETTLE_SECONDS = 2.0

# A bulk element Jira rejected for a reason that may pass (a rate limit inside the batch) is
# sent again, alone with the other failures, this many times before it is reported.
ELEMENT_RETRIES = 3

Progress = Callable[[dict[str, Any]], Awaitable[None]]
# Raises unless this attempt still holds its project to itself (the caller's lock): checked
# before every search-then-create, the step that two pushes at once could both make.
StillAlone = Callable[[], Awaitable[object]]


class IdeaError(msgspec.Struct, frozen=True):
    """What Jira said about an idea it would not take, shown to the user per idea."""

    idea: str
    status: int | None
    messages: list[str]
    fields: dict[str, str]


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
        still_alone: StillAlone | None = None,
    ) -> None:
        self.pool, self.jira, self.connection, self.plan = pool, jira, connection, plan
        self.still_alone = still_alone
        self.mapping = msgspec.convert(connection.mapping, JiraMapping)
        self.project = connection.project_key
        self.portfolio = plan.portfolio_id
        self.progress = progress
        self.errors: list[IdeaError] = []
        self.epics: dict[str, str] = {}
        self.issues: dict[str, str] = {}
        self.operations: list[Operation] = []
        # What this attempt wrote to the link table, by `operation_key`: an attempt cut short
        # reports these as done, and a push that wrote anything was not stuck.
        self.completed: set[tuple[str, ...]] = set()

    async def run(self) -> list[Operation]:
        async with self.pool.acquire() as conn:
            known = await known_issues(conn, self.connection.id)
        operations = plan_operations(
            project_key=self.project,
            mapping=self.mapping,
            portfolio_id=self.portfolio,
            phases=self.plan.phases,
            ideas=self.plan.ideas,
            dependencies=self.plan.dependencies,
            known=known,
            currency=self.plan.currency,
        )
        self.operations = operations
        self.epics = dict(known.epics)
        self.issues = {ref: idea.issue_key for ref, idea in known.ideas.items()}
        ideas = {idea.ref: idea for idea in self.plan.ideas}
        phases = {phase.key: phase for phase in self.plan.phases}
        for op in operations:
            if op.action == "create_epic" and op.phase is not None:
                await self._create_epic(phases[op.phase])
        await self._report(operations, "epics")
        creates = [ideas[op.idea] for op in operations if op.action == "create_issue" and op.idea]
        for start in range(0, len(creates), BULK_CREATE_MAX):
            await self._create_batch(creates[start : start + BULK_CREATE_MAX])
            await self._report(operations, f"issues {min(start + BULK_CREATE_MAX, len(creates))}/{len(creates)}")
        for op in operations:
            if op.action == "update_issue" and op.idea is None and op.phase and op.issue_key:
                await self._update_epic(phases[op.phase], op.issue_key)
            elif op.action == "update_issue" and op.idea and op.issue_key:
                await self._update(ideas[op.idea], op.issue_key)
            elif op.action == "create_link" and op.blocker and op.blocked:
                await self._link(op.blocker, op.blocked)
            elif op.action == "mark_unplanned" and op.idea and op.issue_key:
                await self._mark_unplanned(op.idea, op.issue_key)
        await self._report(operations, "done")
        return operations

    def carried_out(self) -> list[Operation]:
        """The operations this attempt completed so far (all of them once `run` returned)."""
        return [op for op in self.operations if op.action != "leave_alone" and operation_key(op) in self.completed]

    async def _report(self, operations: list[Operation], stage: str) -> None:
        await self.progress({"stage": stage, "operations": len(operations), "errors": len(self.errors)})

    def _fields(self, idea: PlannedIdea) -> dict[str, Any]:
        return issue_fields(self.project, self.mapping, idea, self.epics.get(idea.phase), self.portfolio)

    async def _record(self, *, kind: str, item: str, issue: CreatedIssue, label: str, fields: dict[str, Any],
                      phase: str | None, cost: float | None) -> None:  # fmt: skip
        async with self.pool.acquire() as conn:
            await repository.record_issue(
                conn,
                self.connection.id,
                kind=kind,
                item=item,
                issue_key=issue.key,
                issue_id=issue.id,
                label=label,
                phase=phase,
                cost=cost,
                fingerprint=fields_fingerprint(fields),
                plan_id=UUID(self.plan.plan_id),
            )
        (self.epics if kind == "epic" else self.issues)[item] = issue.key
        self.completed.add((kind, item))

    async def _find(self, labels: list[str]) -> dict[str, CreatedIssue]:
        found = await self.jira.search_by_labels(self.project, labels)
        wanted = set(labels)
        return {label: CreatedIssue(hit.id, hit.key) for hit in found for label in hit.labels if label in wanted}

    async def _alone(self) -> None:
        if self.still_alone is not None:
            await self.still_alone()

    async def _create_epic(self, phase: Any) -> None:
        label = phase_label(self.portfolio, phase.key)
        fields = epic_fields(self.project, self.mapping, phase, self.portfolio, self.plan.currency)
        await self._alone()
        issue = (await self._find([label])).get(label)
        if issue is None:
            try:
                issue = await self.jira.create_issue(create_issue_body(fields))
            except OutcomeUnknown:
                await asyncio.sleep(SEARCH_SETTLE_SECONDS)
                issue = (await self._find([label])).get(label) or await self.jira.create_issue(create_issue_body(fields))
        await self._record(kind="epic", item=phase.key, issue=issue, label=label, fields=fields, phase=phase.key, cost=None)

    async def _create_batch(self, batch: list[PlannedIdea]) -> None:
        labels = {idea.ref: idea_label(self.portfolio, idea.ref) for idea in batch}
        pending = list(batch)
        for _ in range(ELEMENT_RETRIES + 1):
            await self._alone()
            # What an interrupted attempt (or a lost answer) already made is found, not made again.
            found = await self._find([labels[idea.ref] for idea in pending])
            for idea in pending:
                if labels[idea.ref] in found:
                    await self._record_idea(idea, found[labels[idea.ref]], labels[idea.ref])
            pending = [idea for idea in pending if labels[idea.ref] not in found]
            if not pending:
                return
            try:
                result = await self.jira.create_issues([create_issue_body(self._fields(idea)) for idea in pending])
            except OutcomeUnknown:
                await asyncio.sleep(SEARCH_SETTLE_SECONDS)
                continue  # search again before sending anything twice
            for created in result.created:
                idea = pending[created.index or 0]
                await self._record_idea(idea, created, labels[idea.ref])
            again = []
            for failure in result.failed:
                idea = pending[failure.index]
                if failure.status in (None, 429, 503):
                    again.append(idea)  # only the failed elements are sent again
                else:
                    self.errors.append(IdeaError(idea.ref, failure.status, list(failure.messages), dict(failure.field_errors)))
            pending = again
            if not pending:
                return
        # Jira kept refusing these elements, or losing its answers: not the ideas' fault. The
        # push waits for Jira as in any outage, and a later attempt sends only what is missing.
        refs = ", ".join(idea.ref for idea in pending)
        raise JiraUnavailable(None, [f"Jira refused or lost the creation of {refs} {ELEMENT_RETRIES + 1} times"])

    async def _record_idea(self, idea: PlannedIdea, issue: CreatedIssue, label: str) -> None:
        await self._record(kind="idea", item=idea.ref, issue=issue, label=label, fields=self._fields(idea),
                           phase=idea.phase, cost=idea.cost)  # fmt: skip

    async def _update(self, idea: PlannedIdea, key: str) -> None:
        fields = self._fields(idea)
        try:
            await self.jira.edit_issue(key, edit_issue_body(fields))
        except JiraError as exc:
            if unavailable(exc):
                raise  # not this idea's fault: the push waits for Jira and tries again
            self.errors.append(IdeaError(idea.ref, exc.status, list(exc.messages), dict(exc.field_errors)))
            return
        await self._record_idea(idea, CreatedIssue(id="", key=key), idea_label(self.portfolio, idea.ref))

    async def _update_epic(self, phase: Any, key: str) -> None:
        fields = epic_fields(self.project, self.mapping, phase, self.portfolio, self.plan.currency)
        await self.jira.edit_issue(key, edit_issue_body(fields))
        await self._record(kind="epic", item=phase.key, issue=CreatedIssue(id="", key=key),
                           label=phase_label(self.portfolio, phase.key), fields=fields, phase=phase.key, cost=None)  # fmt: skip

    async def _link(self, blocker: str, blocked: str) -> None:
        if blocker not in self.issues or blocked not in self.issues:
            return  # one side was rejected by Jira; its error is already reported
        await self.jira.link_issues(blocks_link_body(self.issues[blocker], self.issues[blocked]))
        async with self.pool.acquire() as conn:
            await repository.record_blocks(conn, self.connection.id, blocker, blocked)
        self.completed.add(("link", blocker, blocked))

    async def _mark_unplanned(self, ref: str, key: str) -> None:
        await self.jira.edit_issue(key, unplanned_edit_body())
        try:
            await self.jira.add_comment(key, adf.unplanned_comment(ref))
        except OutcomeUnknown:
            log.warning("comment on %s may not have been added", key)
        async with self.pool.acquire() as conn:
            await repository.mark_unplanned(conn, self.connection.id, ref)
        self.completed.add(("idea", ref))
