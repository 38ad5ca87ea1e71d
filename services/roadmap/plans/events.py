"""Which steps of a plan's lifecycle the people outside are told about, and what they are told.

Pure: from the audit events of one transition to the events subscribers receive
(services/kit/events). A leader's front-end, chat or e-mail bridge learns that a plan waits
for decisions (`plan.submitted`, also when a revision asks again for some phases), that a
phase was decided (`phase.decided`), and that the plan became the roadmap (`plan.approved`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.roadmap.plans.domain import Event


def outbound_events(plan: dict[str, Any], events: Iterable[Event], *, actor: str) -> list[tuple[str, dict[str, Any]]]:
    """(event type, data) for each audit event that subscribers hear of, in order.

    `plan` holds what every event names: `planId`, `name`, `revision`, `phases` (in time order).
    """
    told: list[tuple[str, dict[str, Any]]] = []
    common = {**plan, "by": actor, "link": f"/roadmap/plans/{plan['planId']}"}
    for event in events:
        if event.action == "submitted":
            told.append(("plan.submitted", {**common, "awaitingDecision": list(plan["phases"])}))
        elif event.action == "revised" and event.detail.get("askedAgain"):
            told.append(("plan.submitted", {**common, "awaitingDecision": list(event.detail["askedAgain"])}))
        elif event.action.startswith("phase_"):
            decision = {"decision": event.action.removeprefix("phase_"), **event.detail}
            told.append(("phase.decided", {**common, **decision}))
        elif event.action == "approved":
            told.append(("plan.approved", common))
    return told
