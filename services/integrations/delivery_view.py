"""The delivery view of a plan: per idea and per phase, how far its Jira issues have got, and what is late.

Pure rules (standard library and msgspec). The issues' status categories come from the link
table (webhooks and refreshes keep them); each idea's title, owner and due date come from the
plan as its last push read it, so the view needs neither Jira nor the roadmap service. An idea
is late when its issue is not done and its phase ended before today; "today" is the caller's
(an injected clock), so a test sets it instead of waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import msgspec

from services.integrations.planned import Kpi, Owner

PHASES = ("discovery", "improve", "perfection", "personalization")


class TrackedIdea(msgspec.Struct, frozen=True, kw_only=True):
    """An idea's issue as the link table knows it."""

    ref: str
    issue_key: str
    phase: str
    status_category: str
    cost: float


class IdeaDelivery(msgspec.Struct, kw_only=True, rename="camel"):
    """One planned idea in delivery, as a leader reads it in the plan (who answers for it, where
    it helps, what it costs, what it is worth, how its success is measured) with its issue, where
    that is, and whether it is late."""

    ref: str
    title: str
    owner: Owner | None
    persona: str | None = None
    journey_stage: str | None = None
    cost: float
    value: float | None = None
    kpis: list[Kpi] = msgspec.field(default_factory=list)
    phase: str
    issue_key: str
    status_category: str
    due: date | None
    late: bool


class PhaseDelivery(msgspec.Struct, kw_only=True, rename="camel"):
    """A phase's ideas to do, in progress, done and late, and its budget planned and delivered."""

    phase: str
    to_do: int = 0
    in_progress: int = 0
    done: int = 0
    late: int = 0
    end: date | None = None
    budget_planned: float = 0.0
    budget_delivered: float = 0.0


def delivery_view(
    tracked: Sequence[TrackedIdea], snapshot: dict[str, Any] | None, today: date
) -> tuple[list[PhaseDelivery], list[IdeaDelivery]]:
    """Per phase (in time order) and per idea (in phase order, then by ref): the plan's delivery
    on `today`. `snapshot` is the plan as its last push read it (None: titles fall back to refs)."""
    ideas = {idea["ref"]: idea for idea in (snapshot or {}).get("ideas", [])}
    ends = {phase["key"]: _date(phase.get("end")) for phase in (snapshot or {}).get("phases", [])}
    phases: dict[str, PhaseDelivery] = {}
    rows = []
    for item in sorted(tracked, key=lambda t: (_phase_order(t.phase), t.ref)):
        idea = ideas.get(item.ref, {})
        due = _date(idea.get("due")) or ends.get(item.phase)
        late = item.status_category != "done" and due is not None and due < today
        rows.append(
            IdeaDelivery(
                ref=item.ref,
                title=idea.get("title") or item.ref,
                owner=msgspec.convert(idea["owner"], Owner) if idea.get("owner") else None,
                persona=idea.get("persona"),
                journey_stage=idea.get("journey_stage"),
                cost=item.cost,
                value=idea.get("score"),
                kpis=msgspec.convert(idea.get("kpis") or [], list[Kpi]),
                phase=item.phase,
                issue_key=item.issue_key,
                status_category=item.status_category,
                due=due,
                late=late,
            )
        )
        phase = phases.setdefault(item.phase, PhaseDelivery(phase=item.phase, end=ends.get(item.phase)))
        phase.budget_planned += item.cost
        if item.status_category == "done":
            phase.done += 1
            phase.budget_delivered += item.cost
        elif item.status_category == "indeterminate":
            phase.in_progress += 1
        else:
            phase.to_do += 1  # "new" and "unknown": not started as far as anyone can tell
        phase.late += late
    return list(phases.values()), rows


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _phase_order(key: str) -> int:
    return PHASES.index(key) if key in PHASES else len(PHASES)
