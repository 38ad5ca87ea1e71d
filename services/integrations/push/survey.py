"""What Jira already holds of a plan: one paged search by the plan's labels, and what it means.

Jira has no idempotency key, so a push finds its issues again by their labels. It searches once
at the start, for every label of the plan (an earlier attempt, or a connection deleted and made
again, may have created any of them), and reads the found issues' Blocks links in the same
search, so a link already in Jira is not sent again. Later it searches only after an outcome it
could not see. Labels go in chunks, each one JQL query of at most `LABELS_PER_SEARCH` labels, so
a fresh plan costs ceil(ideas / 100) searches.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.integrations.jira_client import JiraClient
from services.integrations.jira_types import FoundIssue
from services.integrations.payloads import idea_label, phase_label
from services.integrations.push_plan import InJira

# One page of a search returns at most 100 issues with fields: as many labels as one page holds.
LABELS_PER_SEARCH = 100
FIELDS = ("labels", "status", "parent", "issuelinks")


def label_chunks(idea_labels: Sequence[str], epic_labels: Sequence[str]) -> list[list[str]]:
    """The searches a survey makes: idea labels by the hundred, the few epic labels with the first."""
    chunks = [
        list(idea_labels[start : start + LABELS_PER_SEARCH]) for start in range(0, len(idea_labels), LABELS_PER_SEARCH)
    ]
    if not chunks:
        return [list(epic_labels)] if epic_labels else []
    chunks[0] = [*epic_labels, *chunks[0]]
    return chunks


async def search(jira: JiraClient, project_key: str, labels: Sequence[str]) -> dict[str, FoundIssue]:
    """The issues of the project carrying any of `labels`, by label (a label is on one issue, or
    the first found wins: the link table then keeps that one)."""
    found: dict[str, FoundIssue] = {}
    wanted = set(labels)
    for issue in await jira.search_by_labels(project_key, list(labels), fields=FIELDS):
        for label in issue.labels:
            if label in wanted:
                found.setdefault(label, issue)
    return found


async def survey(
    jira: JiraClient, project_key: str, portfolio_id: str, phase_keys: Sequence[str], refs: Sequence[str]
) -> tuple[InJira, dict[str, FoundIssue]]:
    """What Jira holds of these epics and ideas (an `InJira`), and the found issues by label."""
    epic_labels = {phase_label(portfolio_id, key): key for key in phase_keys}
    idea_labels = {idea_label(portfolio_id, ref): ref for ref in refs}
    found: dict[str, FoundIssue] = {}
    for chunk in label_chunks(list(idea_labels), list(epic_labels)):
        found |= await search(jira, project_key, chunk)
    return in_jira_of(found, epic_labels, idea_labels), found


def in_jira_of(found: dict[str, FoundIssue], epic_labels: dict[str, str], idea_labels: dict[str, str]) -> InJira:
    """The survey's findings in the plan's terms: phase keys, refs, and links between found ideas."""
    ideas = {ref: found[label] for label, ref in idea_labels.items() if label in found}
    by_key = {issue.key: ref for ref, issue in ideas.items()}
    links = frozenset(
        (ref, by_key[blocked]) for ref, issue in ideas.items() for blocked in issue.blocks if blocked in by_key
    )
    return InJira(
        epics={key: found[label].key for label, key in epic_labels.items() if label in found},
        ideas={ref: issue.key for ref, issue in ideas.items()},
        parents={ref: issue.parent_key for ref, issue in ideas.items()},
        links=links,
    )
