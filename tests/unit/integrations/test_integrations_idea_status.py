"""Whether an idea is delivered, from its planned Jira issues (idea_status.py, pure)."""

from __future__ import annotations

from services.integrations.idea_status import IssueStatus, idea_status, idea_statuses


def issue(ref: str, key: str, category: str) -> IssueStatus:
    return IssueStatus(ref=ref, issue_key=key, status_category=category)


def test_an_idea_without_planned_issues_is_untracked_and_not_delivered_by_jira():
    status = idea_status("A", [issue("B", "CJ-1", "done")])
    assert (status.tracked, status.delivered, status.status_category, status.issues) == (False, False, None, [])


def test_an_idea_is_delivered_when_every_issue_is_done_and_shows_the_least_advanced_category():
    assert idea_status("A", [issue("A", "CJ-1", "done")]).delivered
    both = idea_status("A", [issue("A", "OPS-4", "done"), issue("A", "CJ-1", "indeterminate")])
    assert (both.tracked, both.delivered, both.status_category) == (True, False, "indeterminate")
    assert [i.issue_key for i in both.issues] == ["CJ-1", "OPS-4"]
    # A category Jira named that we do not know counts as not started.
    assert idea_status("A", [issue("A", "CJ-1", "unknown"), issue("A", "CJ-2", "new")]).status_category in (
        "unknown",
        "new",
    )
    assert not idea_status("A", [issue("A", "CJ-1", "unknown")]).delivered


def test_every_tracked_idea_is_listed_once_by_ref():
    statuses = idea_statuses([issue("B", "CJ-2", "done"), issue("A", "CJ-1", "new"), issue("B", "OPS-1", "done")])
    assert [(s.ref, s.delivered, len(s.issues)) for s in statuses] == [("A", False, 1), ("B", True, 2)]
