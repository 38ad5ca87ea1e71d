"""Atlassian Document Format (ADF) for the rich text a push writes: descriptions and comments.

Jira REST v3 refuses plain strings where rich text goes (CONTRACT.md §1, §2.9), so every
description and comment is an ADF document. The builders never emit an empty text node: the
schema requires `text` to be non-empty, and Jira answers 400 to one.
"""

from __future__ import annotations

from typing import Any

from services.integrations.planned import PlannedIdea, PlannedPhase

Node = dict[str, Any]


def text(value: str, *, strong: bool = False) -> Node:
    """An inline text node; `value` must hold at least one character."""
    node: Node = {"type": "text", "text": value}
    if strong:
        node["marks"] = [{"type": "strong"}]
    return node


def paragraph(*inline: Node) -> Node:
    """A paragraph of inline nodes (an empty paragraph is valid ADF and renders a blank line)."""
    return {"type": "paragraph", "content": list(inline)}


def heading(value: str, level: int = 3) -> Node:
    """A heading of level 1-6."""
    return {"type": "heading", "attrs": {"level": level}, "content": [text(value)]}


def bullet_list(items: list[list[Node]]) -> Node:
    """A bullet list, one paragraph of the given inline nodes per item (at least one item)."""
    return {
        "type": "bulletList",
        "content": [{"type": "listItem", "content": [paragraph(*inline)]} for inline in items],
    }


def table(header: list[str], rows: list[list[str]]) -> Node:
    """A table with a header row; empty cells become empty paragraphs, never empty text."""

    def cell(kind: str, value: str, strong: bool = False) -> Node:
        content = [text(value, strong=strong)] if value else []
        return {"type": kind, "attrs": {}, "content": [paragraph(*content)]}

    head = {"type": "tableRow", "content": [cell("tableHeader", value, strong=True) for value in header]}
    body = [{"type": "tableRow", "content": [cell("tableCell", value) for value in row]} for row in rows]
    return {"type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "default"}, "content": [head, *body]}


def doc(*blocks: Node) -> Node:
    """The root document; `version` must be 1."""
    return {"type": "doc", "version": 1, "content": list(blocks)}


def _number(value: float) -> str:
    # Fixed two decimals keep descriptions (and so field fingerprints) stable across runs.
    return f"{value:,.2f}"


def _present(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def idea_description(idea: PlannedIdea) -> Node:
    """An idea's description: its journey context, then how its score was made up."""
    blocks: list[Node] = []
    journey = [
        (label, _present(value))
        for label, value in (
            ("Persona", idea.persona),
            ("Journey stage", idea.journey_stage),
            ("Touchpoint", idea.touchpoint),
            ("Pain point", idea.pain_point),
        )
    ]
    known = [[text(f"{label}: ", strong=True), text(value)] for label, value in journey if value]
    if known:
        blocks += [heading("Customer journey"), bullet_list(known)]
    blocks += _accountability(idea)
    blocks.append(heading("Score"))
    if idea.breakdown:
        rows = [[c.criterion.strip() or "(unnamed)", _number(c.contribution)] for c in idea.breakdown]
        if idea.score is not None:
            rows.append(["Total", _number(idea.score)])
        blocks.append(table(["Criterion", "Contribution"], rows))
    summary = [
        text("Total score: ", strong=True),
        text(_number(idea.score) if idea.score is not None else "not scored"),
    ]
    model = _present(idea.model)
    if model:
        summary += [text(" (model: "), text(model), text(")")]
    blocks.append(paragraph(*summary))
    # The rank is left out on purpose: one idea added at the top would shift every rank and
    # re-edit (and notify watchers of) every issue; the priority carries the rank band instead.
    facts = [text("In the approved plan, phase "), text(idea.phase, strong=True)]
    if idea.cost is not None:
        facts.append(text(f"; estimated cost {_number(idea.cost)}"))
    blocks.append(paragraph(*facts, text(". Pushed by the roadmap planner (idea "), text(idea.ref), text(").")))
    return doc(*blocks)


def _optional(value: float | None) -> str:
    return _number(value) if value is not None else ""


def _accountability(idea: PlannedIdea) -> list[Node]:
    """Who answers for the idea and how its success is measured: a KPI table, one row a KPI."""
    blocks: list[Node] = []
    owner = idea.owner
    if owner is not None and _present(owner.name):
        line = [text("Owner: ", strong=True), text(owner.name.strip())]
        department = _present(owner.department)
        if department:
            line.append(text(f" ({department})"))
        blocks.append(paragraph(*line))
    if idea.kpis:
        rows = [
            [k.name.strip() or k.key, k.unit.strip(), k.direction, _optional(k.baseline), _optional(k.target)]
            for k in idea.kpis
        ]
        blocks += [heading("KPIs"), table(["KPI", "Unit", "Direction", "Baseline", "Target"], rows)]
    return blocks


def epic_description(phase: PlannedPhase, currency: str) -> Node:
    """A phase epic's description: its budget and what the approved plan spends of it."""
    lines = [
        [text("Budget: ", strong=True), text(f"{_number(phase.budget)} {currency}")],
        [text("Planned spend: ", strong=True), text(f"{_number(phase.spend)} {currency}")],
    ]
    if phase.budget > 0:
        lines.append([text("Budget used: ", strong=True), text(f"{phase.spend / phase.budget:.0%}")])
    if phase.start is not None or phase.end is not None:
        when = f"{phase.start.isoformat() if phase.start else '?'} to {phase.end.isoformat() if phase.end else '?'}"
        lines.append([text("Dates: ", strong=True), text(when)])
    return doc(
        paragraph(text("Phase "), text(phase.label, strong=True), text(f" ({phase.key}) of the approved roadmap.")),
        bullet_list(lines),
    )


def unplanned_comment(idea_ref: str, *, plan_name: str | None = None) -> Node:
    """The comment body (ADF) on an issue whose idea is no longer in the approved plan.

    Post it as `{"body": <this>}`. The issue is labelled, never deleted: people may have worked
    on it, and deleting would lose that.
    """
    where = f"the approved plan {plan_name.strip()}" if plan_name and plan_name.strip() else "the latest approved plan"
    return doc(
        paragraph(
            text("No longer planned: ", strong=True),
            text(f"idea {idea_ref} is not in {where}. This issue is kept and labelled rather than deleted; "),
            text("close it or bring the idea back in a later plan."),
        )
    )
