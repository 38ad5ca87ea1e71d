"""The plan lifecycle as pure functions: `draft -> submitted -> approved | rejected`, `approved -> superseded`.

A plan's phases are the phases of the run it was promoted from. While the plan is submitted a
leader decides each phase once; the plan is approved when every phase is approved and rejected
as soon as one is rejected. Each function takes the current state and returns the next state
with the audit events the transition makes, or raises a `PlanRuleBroken` naming why not.
Nothing here does I/O, so the rules are testable in microseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import msgspec

Status = Literal["draft", "submitted", "approved", "rejected", "superseded"]
Decision = Literal["approved", "rejected"]

STATUSES: tuple[Status, ...] = ("draft", "submitted", "approved", "rejected", "superseded")


class PlanRuleBroken(Exception):
    """A requested transition that the plan's rules do not allow."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransitionForbidden(PlanRuleBroken):
    """The plan's status does not allow this action (the API answers 409)."""


class PhaseAlreadyDecided(PlanRuleBroken):
    """A leader already decided this phase; a decision is never changed (409)."""


class UnknownPhase(PlanRuleBroken):
    """The phase is not one of the plan's phases (the API answers 422 naming `phase`)."""


class Event(msgspec.Struct, frozen=True):
    """Something that happened to a plan, as the audit trail records it."""

    action: str
    detail: dict[str, Any] = msgspec.field(default_factory=dict)


class PlanState(msgspec.Struct, frozen=True):
    """A plan's status, its phases (in time order) and the decisions taken so far."""

    status: Status
    phases: tuple[str, ...]
    decisions: dict[str, Decision] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        # The invariants every reachable state keeps; a stored plan that breaks one is a bug.
        if not self.phases or len(set(self.phases)) != len(self.phases):
            raise ValueError("a plan has at least one phase and no phase twice")
        if not set(self.decisions) <= set(self.phases):
            raise ValueError("decisions are only about the plan's phases")
        if self.status not in STATUSES:
            raise ValueError(f"unknown plan status {self.status!r}")
        if not consistent(self.status, self.phases, self.decisions):
            raise ValueError(f"status {self.status!r} does not agree with the decisions {dict(self.decisions)}")


class Transition(msgspec.Struct, frozen=True):
    """The state after an action and the events it made, oldest first."""

    state: PlanState
    events: tuple[Event, ...]


def consistent(status: Status, phases: tuple[str, ...], decisions: Mapping[str, Decision]) -> bool:
    """Whether `status` agrees with the phase decisions: the invariant of every reachable state."""
    rejected = "rejected" in decisions.values()
    everything_approved = len(decisions) == len(phases) and not rejected
    if status == "draft":
        return not decisions
    if status == "submitted":
        return not rejected and not everything_approved
    if status == "rejected":
        return rejected
    return everything_approved  # approved, and superseded (which was approved first)


PROMOTABLE_RESULTS = ("optimal", "feasible")


def new_plan(
    *, run_kind: str, run_status: str, result_status: str | None, phases: tuple[str, ...], run_id: str, name: str
) -> Transition:
    """A draft plan promoted from a run: only a finished optimisation that found a plan qualifies."""
    if run_kind != "optimise":
        raise TransitionForbidden(f"Only an optimisation run can become a plan; this run is a {run_kind}.")
    if run_status != "succeeded":
        raise TransitionForbidden(f"Only a succeeded run can become a plan; this run is {run_status}.")
    if result_status not in PROMOTABLE_RESULTS:
        raise TransitionForbidden(f"The run found no plan to promote (its result is {result_status or 'missing'}).")
    if not phases:
        raise TransitionForbidden("The run's result has no phases to decide.")
    state = PlanState(status="draft", phases=phases)
    return Transition(state=state, events=(Event("created", {"runId": run_id, "name": name}),))


def submit(state: PlanState) -> Transition:
    """Send a draft to the leaders for decision."""
    if state.status != "draft":
        raise TransitionForbidden(f"Only a draft plan can be submitted; this plan is {state.status}.")
    return Transition(state=PlanState(status="submitted", phases=state.phases), events=(Event("submitted"),))


def decide(state: PlanState, phase: str, decision: Decision, *, comment: str) -> Transition:
    """Record a leader's decision on one phase budget, and what it means for the plan.

    The last approval approves the plan; the first rejection rejects it at once.
    """
    if state.status != "submitted":
        raise TransitionForbidden(f"Phases are decided only while a plan is submitted; this plan is {state.status}.")
    if phase not in state.phases:
        raise UnknownPhase(f"{phase!r} is not a phase of this plan; its phases are {', '.join(state.phases)}.")
    if phase in state.decisions:
        raise PhaseAlreadyDecided(f"The {phase} phase was already {state.decisions[phase]}; a decision is final.")
    decisions = {**state.decisions, phase: decision}
    if decision == "rejected":
        status: Status = "rejected"
    else:
        status = "approved" if len(decisions) == len(state.phases) else "submitted"
    events = [Event(f"phase_{decision}", {"phase": phase, "comment": comment})]
    if status != state.status:
        events.append(Event(status))
    return Transition(state=PlanState(status=status, phases=state.phases, decisions=decisions), events=tuple(events))


def supersede(state: PlanState, *, by_plan: str) -> Transition:
    """Retire an approved plan because another plan of its portfolio was approved."""
    if state.status != "approved":
        raise TransitionForbidden(f"Only an approved plan can be superseded; this plan is {state.status}.")
    after = PlanState(status="superseded", phases=state.phases, decisions=state.decisions)
    return Transition(state=after, events=(Event("superseded", {"byPlan": by_plan}),))
