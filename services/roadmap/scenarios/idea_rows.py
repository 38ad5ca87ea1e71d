"""What a reader of a run, plan or comparison needs to know about each idea: pure rules.

A scenario freezes, with each idea's value and cost, its owner, KPIs and quick-win quadrant as
the scoring service gave them (`IdeaDetail`), so a plan shows what was decided on even after
the backlog changes. Rows join those details to the scenario document's ideas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import msgspec

from services.roadmap.optimiser.scenario import IdeaDoc


class _Doc(msgspec.Struct, rename="camel", kw_only=True):
    pass


class OwnerDoc(_Doc, frozen=True):
    subject: str
    name: str
    email: str | None = None
    department: str | None = None


class KpiDoc(_Doc, frozen=True):
    key: str
    name: str
    unit: str = ""
    direction: Literal["increase", "decrease"] = "increase"
    baseline: float | None = None
    target: float | None = None


class IdeaDetail(_Doc, frozen=True):
    """An idea's owner, KPIs and quadrant, as the scores the scenario stands on gave them."""

    owner: OwnerDoc | None = None
    kpis: list[KpiDoc] = msgspec.field(default_factory=list)
    quadrant: str | None = None


class IdeaRow(_Doc):
    """One idea as a leader reads it in a plan: who answers for it, where it helps, what it costs,
    what it is worth under the model, and how its success is measured."""

    ref: str
    title: str
    owner: OwnerDoc | None
    persona: str | None
    journey_stage: str | None
    cost: float | None
    value: float | None
    kpis: list[KpiDoc]
    quadrant: str | None


class AccountabilityWarning(_Doc, frozen=True):
    """Ideas the scenario may plan that nobody answers for (`noOwner`) or whose success is not measured (`noKpis`)."""

    kind: Literal["noOwner", "noKpis"]
    message: str
    ideas: list[str]


class KpiRollup(_Doc, frozen=True):
    """One KPI over a phase's ideas: how many ideas move it and the sum of their targeted change
    (target - baseline, over the ideas that give both), summed only when every idea measures it
    in the same unit; otherwise `targetedChange` is null and `units` shows the units."""

    key: str
    name: str
    direction: str | None
    units: list[str]
    ideas: int
    with_target: int
    targeted_change: float | None


def details_of(raw: Mapping[str, Any]) -> dict[str, IdeaDetail]:
    """A scenario's stored details, by idea id."""
    return msgspec.convert(dict(raw), dict[str, IdeaDetail])


def rows_of(ideas: Iterable[IdeaDoc | Mapping[str, Any]], details: Mapping[str, IdeaDetail]) -> dict[str, IdeaRow]:
    """A row per idea of a scenario document (as structs or as stored JSON), by idea id."""
    rows = {}
    for raw in ideas:
        idea = raw if isinstance(raw, IdeaDoc) else msgspec.convert(raw, IdeaDoc)
        detail = details.get(idea.id, IdeaDetail())
        persona, stage = idea.attributes.get("persona"), idea.attributes.get("journeyStage")
        rows[idea.id] = IdeaRow(
            ref=idea.id,
            title=idea.title or idea.id,
            owner=detail.owner,
            persona=None if persona is None else str(persona),
            journey_stage=None if stage is None else str(stage),
            cost=idea.cost,
            value=idea.value,
            kpis=list(detail.kpis),
            quadrant=detail.quadrant,
        )
    return rows


def enriched(assignments: Iterable[Mapping[str, Any]], rows: Mapping[str, IdeaRow]) -> list[dict[str, Any]]:
    """Assignments (`{idea, phase}`) with each idea's row merged in; an idea without a row stays bare."""
    out = []
    for assignment in assignments:
        row = rows.get(assignment["idea"])
        out.append({**assignment, **msgspec.to_builtins(row)} if row is not None else dict(assignment))
    return out


def roll_up(refs: Iterable[str], rows: Mapping[str, IdeaRow]) -> list[KpiRollup]:
    """The KPIs of the given ideas grouped by key, in key order (the first name seen is kept)."""
    groups: dict[str, list[KpiDoc]] = {}
    for ref in refs:
        row = rows.get(ref)
        for kpi in [] if row is None else row.kpis:
            groups.setdefault(kpi.key, []).append(kpi)
    rollups = []
    for key in sorted(groups):
        group = groups[key]
        units = sorted({kpi.unit for kpi in group})
        directions = {kpi.direction for kpi in group}
        changes = [kpi.target - kpi.baseline for kpi in group if kpi.target is not None and kpi.baseline is not None]
        rollups.append(
            KpiRollup(
                key=key,
                name=group[0].name,
                direction=directions.pop() if len(directions) == 1 else None,
                units=units,
                ideas=len(group),
                with_target=len(changes),
                targeted_change=math.fsum(changes) if len(units) == 1 and changes else None,
            )
        )
    return rollups


def warnings(ideas: Sequence[IdeaDoc], details: Mapping[str, IdeaDetail]) -> list[AccountabilityWarning]:
    """Ideas the scenario may plan with no owner, or with no KPI, each kind listed once."""
    plannable = [idea.id for idea in ideas if idea.phases is None or idea.phases]
    no_owner = sorted(ref for ref in plannable if details.get(ref, IdeaDetail()).owner is None)
    no_kpis = sorted(ref for ref in plannable if not details.get(ref, IdeaDetail()).kpis)
    found = []
    if no_owner:
        found.append(
            AccountabilityWarning(
                kind="noOwner", message=f"{len(no_owner)} idea(s) the scenario may plan have no owner", ideas=no_owner
            )
        )
    if no_kpis:
        found.append(
            AccountabilityWarning(
                kind="noKpis", message=f"{len(no_kpis)} idea(s) the scenario may plan have no KPI", ideas=no_kpis
            )
        )
    return found


def only_quick_wins(
    ideas: Sequence[IdeaDoc], details: Mapping[str, IdeaDetail], phases: Sequence[str], *, every_phase: Sequence[str]
) -> list[IdeaDoc]:
    """The ideas with `phases` taken out of the eligible phases of every idea that is not a quick
    win: those phases are for quick wins only. An idea with no eligible phase left is kept, and
    the optimiser leaves it out (not eligible). `every_phase` is what an idea without a phase
    list may go to."""
    restricted = set(phases)
    kept = []
    for idea in ideas:
        if details.get(idea.id, IdeaDetail()).quadrant == "quickWin":
            kept.append(idea)
            continue
        eligible = every_phase if idea.phases is None else idea.phases
        kept.append(msgspec.structs.replace(idea, phases=[key for key in eligible if key not in restricted]))
    return kept
