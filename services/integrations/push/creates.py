"""Creating issues exactly once, and losing none: single creates for epics, bulk creates for ideas.

A create whose answer was lost may or may not have happened: the push waits a moment for Jira's
search to catch up, looks for the labels of what it sent, and sends only what is missing.

A bulk create can answer 201 and still have refused some elements (`errors`, each with its
`failedElementNumber`). Those elements, and only those, are sent again after a jittered
backoff, up to `ELEMENT_RETRIES` times: Jira's "please try again" passes. An element Jira
refuses on a field it names, or for the account's rights, would fail the same way again, so it
is not resent; it fails at once. Whatever still fails leaves the push `partial`, each idea with
Jira's status and words and what the user can do.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Any

from services.integrations.jira_client import CreatedIssue, JiraUnavailable, OutcomeUnknown
from services.integrations.jira_types import BulkFailure
from services.integrations.payloads import create_issue_body, idea_label
from services.integrations.planned import PlannedIdea
from services.integrations.push.survey import search
from services.integrations.push_plan import ItemError
from services.integrations.retry import RetryPolicy

if TYPE_CHECKING:
    from services.integrations.push.run import Push

# Jira's search catches up with its writes after a moment; after a lost answer the push waits
# this long before searching for what the lost call may have made.
SEARCH_SETTLE_SECONDS = 2.0
# Rounds of resending failed elements (and of lost bulk answers) before they are reported.
ELEMENT_RETRIES = 3
ELEMENT_BACKOFF = RetryPolicy(base=0.5, cap=4.0)
# Element statuses a resend cannot fix: the account may not create there, or the project is gone.
FOR_GOOD = frozenset({401, 403, 404})

FIX_FIELDS = "Fix what Jira names (in Jira's configuration or the connection's mapping), then push again: only what is missing is created."
TRY_LATER = "Jira kept refusing it; push again later: only what is missing is created."

_rng = random.Random()


def for_good(failure: BulkFailure) -> bool:
    """Whether a refused element would be refused again: the rights are missing, or Jira names a
    field it will not take (a 4xx; a 429 or 5xx is Jira's state, whatever it names)."""
    if failure.status in FOR_GOOD:
        return True
    return bool(failure.field_errors) and 400 <= failure.status < 500 and failure.status != 429


def element_error(failure: BulkFailure, *, tries: int) -> ItemError:
    """What the push record says about an element Jira would not take."""
    messages = list(failure.messages) or [f"Jira refused the element ({failure.status})"]
    if for_good(failure):
        return ItemError(status=failure.status, messages=messages, fields=dict(failure.field_errors), remedy=FIX_FIELDS)
    return ItemError(
        status=failure.status,
        messages=[*messages, f"refused {tries} times"],
        fields=dict(failure.field_errors),
        remedy=TRY_LATER,
    )


class Creates:
    """The creates of one push attempt."""

    def __init__(self, push: Push) -> None:
        self.push = push

    async def one(self, fields: dict[str, Any], label: str) -> CreatedIssue:
        """Create one issue (an epic); after a lost answer, find it by its label before sending it again."""
        push = self.push
        try:
            return await push.jira.create_issue(create_issue_body(fields))
        except OutcomeUnknown:
            await asyncio.sleep(SEARCH_SETTLE_SECONDS)
        found = await search(push.jira, push.project, [label])
        if label in found:
            return CreatedIssue(found[label].id, found[label].key)
        await push.stop_point()
        return await push.jira.create_issue(create_issue_body(fields))

    async def batch(self, batch: list[PlannedIdea]) -> None:
        """Create up to 50 ideas' issues; every idea ends recorded, or failed with Jira's reason."""
        push = self.push
        labels = {idea.ref: idea_label(push.portfolio, idea.ref) for idea in batch}
        pending, refusals, losses = list(batch), 0, 0
        while pending:
            await push.stop_point()
            try:
                result = await push.jira.create_issues([create_issue_body(push.fields(idea)) for idea in pending])
            except OutcomeUnknown:
                losses += 1
                pending = await self._after_lost_answer(pending, labels)
                if pending and losses > ELEMENT_RETRIES:
                    # Jira keeps losing its answers: not the ideas' fault. The push waits for Jira
                    # as in any outage, and its next attempt sends only what is missing.
                    refs = ", ".join(idea.ref for idea in pending)
                    raise JiraUnavailable(
                        None, [f"Jira lost its answer to the creation of {refs} {losses} times"]
                    ) from None
                continue
            for created in result.created:
                await push.record_idea(pending[created.index or 0], created, "created")
            again = []
            for failure in result.failed:
                idea = pending[failure.index]
                if for_good(failure) or refusals >= ELEMENT_RETRIES:
                    push.fail(("idea", idea.ref), element_error(failure, tries=refusals + 1))
                else:
                    again.append(idea)  # only the failed elements are sent again
            if again:
                await asyncio.sleep(ELEMENT_BACKOFF.delay(refusals, None, _rng))
                refusals += 1
            pending = again

    async def _after_lost_answer(self, pending: list[PlannedIdea], labels: dict[str, str]) -> list[PlannedIdea]:
        """Record what a bulk create whose answer was lost made; the ideas still to create."""
        push = self.push
        await asyncio.sleep(SEARCH_SETTLE_SECONDS)
        found = await search(push.jira, push.project, [labels[idea.ref] for idea in pending])
        for idea in pending:
            issue = found.get(labels[idea.ref])
            if issue is not None:
                await push.record_idea(idea, CreatedIssue(issue.id, issue.key), "created")
        return [idea for idea in pending if labels[idea.ref] not in found]
