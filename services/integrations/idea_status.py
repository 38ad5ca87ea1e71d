"""Whether an idea is delivered, as its Jira issues say: the answer the scoring service asks for
before it takes an idea's actuals or KPI measurements.

Pure rules (standard library and msgspec). An idea is tracked in Jira when one of its portfolio's
connections holds a planned issue for it (an idea dropped from the plan, its issue marked
unplanned, is no longer tracked: nothing asks Jira to deliver it). A tracked idea is delivered
when every one of its planned issues is in the status category `done` (an idea pushed to two
projects is delivered when both say so); its status category is the least advanced of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from uuid import UUID

import msgspec

# Least advanced first: "unknown" (a category Jira named that we do not know) counts as not started.
_PROGRESS = {"unknown": 0, "new": 0, "indeterminate": 1, "done": 2}


class IssueStatus(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One planned issue of an idea, as webhooks and refreshes last recorded it."""

    ref: str
    issue_key: str
    status_category: str
    status_name: str | None = None
    plan_id: UUID | None = None


class IdeaStatus(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """An idea's delivery as Jira tracks it. Untracked: `tracked` false, no issues, no category."""

    ref: str
    tracked: bool
    delivered: bool
    status_category: str | None
    issues: list[IssueStatus]


def idea_status(ref: str, issues: Iterable[IssueStatus]) -> IdeaStatus:
    """The delivery of one idea from its planned issues (none: untracked, so not delivered by Jira)."""
    own = sorted((issue for issue in issues if issue.ref == ref), key=lambda issue: issue.issue_key)
    if not own:
        return IdeaStatus(ref=ref, tracked=False, delivered=False, status_category=None, issues=[])
    least = min(own, key=lambda issue: _PROGRESS.get(issue.status_category, 0))
    return IdeaStatus(
        ref=ref,
        tracked=True,
        delivered=all(issue.status_category == "done" for issue in own),
        status_category=least.status_category,
        issues=own,
    )


def idea_statuses(issues: Iterable[IssueStatus]) -> list[IdeaStatus]:
    """The delivery of every tracked idea among `issues`, by ref."""
    ordered = sorted(issues, key=lambda issue: issue.ref)
    return [idea_status(ref, list(group)) for ref, group in groupby(ordered, key=lambda issue: issue.ref)]
