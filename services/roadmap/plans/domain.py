"""The plan lifecycle as pure functions: a roadmap negotiated phase by phase.

```
draft --submit--> submitted --every phase approved--> approved --another plan approved--> superseded
  \\                 |  ^
   \\                |  '--revise: a new run onto the same plan (approvals of unchanged phases kept)
    '--withdraw------+--> withdrawn
```

A plan's phases are the phases of the run it was promoted from. While the plan is submitted
leaders decide its phases: an approval stands (possibly with a lower budget than asked); a
rejection asks for changes to that phase and leaves the plan under review, its other
decisions standing. A leader who approves a phase at less than the plan spends there asks for
changes too. The programme manager answers with a revision, which keeps the approvals of the
phases whose ideas and budget did not change and asks again for the others. The plan is
approved when every phase is.

Each function takes the current state and returns the next state with the audit events the
transition makes, or raises a `PlanRuleBroken` naming why not. Nothing here does I/O, so the
rules are testable in microseconds. Plans rejected before phases could be renegotiated keep
their status `rejected` and `rejected` decisions, and move no further.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import msgspec

Status = Literal["draft", "submitted", "approved", "rejected", "superseded", "withdrawn"]
Decision = Literal["approved", "changes_requested", "rejected"]
Verdict = Literal["approve", "reject"]

STATUSES: tuple[Status, ...] = ("draft", "submitted", "approved", "rejected", "superseded", "withdrawn")


class PlanRuleBroken(Exception):
    """A requested transition that the plan's rules do not allow."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransitionForbidden(PlanRuleBroken):
    """The plan's status does not allow this action (the API answers 409)."""


class PhaseAlreadyDecided(PlanRuleBroken):
    """The phase is approved; an approval stands until a revision changes the phase (409)."""


class UnknownPhase(PlanRuleBroken):
    """The phase is not one of the plan's phases (the API answers 422 naming `phase`)."""


class BadBudget(PlanRuleBroken):
    """An approved budget above what the phase asks for (the API answers 422 naming `budget`)."""


class Event(msgspec.Struct, frozen=True):
    """Something that happened to a plan, as the audit trail records it."""

    action: str
    detail: dict[str, Any] = msgspec.field(default_factory=dict)


class PlanState(msgspec.Struct, frozen=True):
    """A plan's status, its phases (in time order) and the decisions standing on them."""

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


class PhaseFigures(msgspec.Struct, frozen=True):
    """What the plan asks for a phase and what it spends there."""

    budget: float
    spend: float


class DecisionTaken(msgspec.Struct, frozen=True):
    """The decision a leader's verdict comes to, and the budget approved (None: as asked)."""

    decision: Decision
    approved_budget: float | None


def consistent(status: Status, phases: tuple[str, ...], decisions: Mapping[str, Decision]) -> bool:
    """Whether `status` agrees with the phase decisions: the invariant of every reachable state."""
    everything_approved = len(decisions) == len(phases) and set(decisions.values()) == {"approved"}
    if status == "draft":
        return not decisions
    if status == "submitted":
        return not everything_approved and "rejected" not in decisions.values()
    if status == "rejected":
        return "rejected" in decisions.values()
    if status == "withdrawn":
        return not everything_approved
    return everything_approved  # approved, and superseded (which was approved first)


PROMOTABLE_RESULTS = ("optimal", "feasible")


def check_run(*, run_kind: str, run_status: str, result_status: str | None, phases: tuple[str, ...]) -> None:
    """TransitionForbidden unless the run is a finished optimisation that found a plan."""
    if run_kind != "optimise":
        raise TransitionForbidden(f"Only an optimisation run can become a plan; this run is a {run_kind}.")
    if run_status != "succeeded":
        raise TransitionForbidden(f"Only a succeeded run can become a plan; this run is {run_status}.")
    if result_status not in PROMOTABLE_RESULTS:
        raise TransitionForbidden(f"The run found no plan to promote (its result is {result_status or 'missing'}).")
    if not phases:
        raise TransitionForbidden("The run's result has no phases to decide.")


def new_plan(
    *, run_kind: str, run_status: str, result_status: str | None, phases: tuple[str, ...], run_id: str, name: str
) -> Transition:
    """A draft plan promoted from a run: only a finished optimisation that found a plan qualifies."""
    check_run(run_kind=run_kind, run_status=run_status, result_status=result_status, phases=phases)
    state = PlanState(status="draft", phases=phases)
    return Transition(state=state, events=(Event("created", {"runId": run_id, "name": name}),))


def submit(state: PlanState) -> Transition:
    """Send a draft to the leaders for decision."""
    if state.status != "draft":
        raise TransitionForbidden(f"Only a draft plan can be submitted; this plan is {state.status}.")
    return Transition(state=PlanState(status="submitted", phases=state.phases), events=(Event("submitted"),))


def judge(verdict: Verdict, figures: PhaseFigures, *, budget: float | None) -> DecisionTaken:
    """What a leader's verdict on a phase comes to.

    An approval may name a lower budget than the phase asks for; when the plan spends more
    than that there, the phase needs a revision, so the approval is a request for changes.
    """
    if budget is not None and budget > figures.budget:
        raise BadBudget(f"The phase asks for {figures.budget:g}; approve that or less (got {budget:g}).")
    if verdict == "reject":
        return DecisionTaken(decision="changes_requested", approved_budget=budget)
    if budget is not None and figures.spend > budget:
        return DecisionTaken(decision="changes_requested", approved_budget=budget)
    return DecisionTaken(decision="approved", approved_budget=budget)


def decide(state: PlanState, phase: str, taken: DecisionTaken, *, comment: str) -> Transition:
    """Record a leader's decision on one phase, and what it means for the plan.

    An approval stands; a request for changes leaves the plan under review, and a later
    approval of that phase (the leader changing their mind) replaces it. The last approval
    approves the plan.
    """
    if state.status != "submitted":
        raise TransitionForbidden(f"Phases are decided only while a plan is submitted; this plan is {state.status}.")
    if phase not in state.phases:
        raise UnknownPhase(f"{phase!r} is not a phase of this plan; its phases are {', '.join(state.phases)}.")
    if state.decisions.get(phase) == "approved":
        raise PhaseAlreadyDecided(f"The {phase} phase is approved; it stands until a revision changes the phase.")
    decisions: dict[str, Decision] = {**state.decisions, phase: taken.decision}
    everything = len(decisions) == len(state.phases) and set(decisions.values()) == {"approved"}
    status: Status = "approved" if everything else "submitted"
    detail: dict[str, Any] = {"phase": phase, "comment": comment}
    if taken.approved_budget is not None:
        detail["approvedBudget"] = taken.approved_budget
    events = [Event(f"phase_{taken.decision}", detail)]
    if status != state.status:
        events.append(Event(status))
    return Transition(state=PlanState(status=status, phases=state.phases, decisions=decisions), events=tuple(events))


def revise(
    state: PlanState, *, phases: tuple[str, ...], unchanged: frozenset[str], run_id: str, revision: int
) -> Transition:
    """A submitted plan onto another run: approvals of `unchanged` phases stand, the rest are asked again.

    `unchanged` are the phases whose ideas and budget are the same in the new run as in the
    one before; `phases` are the new run's phases.
    """
    if state.status != "submitted":
        raise TransitionForbidden(f"Only a submitted plan is revised; this plan is {state.status}.")
    if not phases:
        raise TransitionForbidden("The run's result has no phases to decide.")
    kept: dict[str, Decision] = {
        phase: decision
        for phase, decision in state.decisions.items()
        if decision == "approved" and phase in unchanged and phase in phases
    }
    asked_again = [phase for phase in phases if phase not in kept]
    detail = {"runId": run_id, "revision": revision, "kept": sorted(kept, key=phases.index), "askedAgain": asked_again}
    everything = len(kept) == len(phases)
    status: Status = "approved" if everything else "submitted"
    events = [Event("revised", detail)] + ([Event("approved")] if everything else [])
    return Transition(state=PlanState(status=status, phases=phases, decisions=kept), events=tuple(events))


def withdraw(state: PlanState) -> Transition:
    """The programme manager takes a plan back before it is approved; it moves no further."""
    if state.status not in ("draft", "submitted"):
        raise TransitionForbidden(f"Only a draft or submitted plan can be withdrawn; this plan is {state.status}.")
    after = PlanState(status="withdrawn", phases=state.phases, decisions=state.decisions)
    return Transition(state=after, events=(Event("withdrawn"),))


def supersede(state: PlanState, *, by_plan: str) -> Transition:
    """Retire an approved plan because another plan of its portfolio was approved."""
    if state.status != "approved":
        raise TransitionForbidden(f"Only an approved plan can be superseded; this plan is {state.status}.")
    after = PlanState(status="superseded", phases=state.phases, decisions=state.decisions)
    return Transition(state=after, events=(Event("superseded", {"byPlan": by_plan}),))


def unchanged_phases(
    before: Mapping[str, tuple[float, frozenset[str]]], after: Mapping[str, tuple[float, frozenset[str]]]
) -> frozenset[str]:
    """The phases whose budget and set of ideas are the same in both runs (phase -> (budget, ideas))."""
    return frozenset(phase for phase, figures in after.items() if before.get(phase) == figures)
