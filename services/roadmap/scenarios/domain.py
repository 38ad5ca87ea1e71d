"""Pure rules of scenarios and runs: building the optimiser's document from frozen scores.

A scenario is the scenario document of DESIGN section 5 plus where its ideas came from. Its
ideas are taken from a score snapshot once, so a run can be repeated exactly even after the
backlog or the scoring model changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import msgspec

from services.roadmap.optimiser.scenario import (
    BaselineDoc,
    ConstraintDoc,
    IdeaDoc,
    ObjectiveDoc,
    PhaseDoc,
    ScenarioDoc,
    ScenarioError,
    SolverDoc,
    TeamDoc,
    to_instance,
)

# The journey context an idea carries into the optimiser, for coverage constraints.
ATTRIBUTE_FIELDS = (
    ("persona", "persona"),
    ("journey_stage", "journeyStage"),
    ("touchpoint", "touchpoint"),
    ("channel", "channel"),
    ("department", "department"),
)

PHASES = ("discovery", "improve", "perfection", "personalization")
MAX_IDEAS_PER_SCENARIO = 20_000
MAX_TIME_LIMIT_SECONDS = 600.0


class SnapshotIdea(msgspec.Struct, frozen=True, rename="camel"):
    """One idea of a score snapshot, as the scoring service sends it."""

    ref: str
    title: str
    score: float | None
    missing: list[str]
    reason: str | None
    cost: float | None
    effort: dict[str, float]
    phases: list[str]
    persona: str | None = None
    journey_stage: str | None = None
    touchpoint: str | None = None
    channel: str | None = None
    department: str | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    # Estimates older than the portfolio's review cadence when the snapshot was taken.
    stale: bool = False
    owner: dict[str, Any] | None = None
    kpis: list[dict[str, Any]] = msgspec.field(default_factory=list)
    quadrant: str | None = None


class Snapshot(msgspec.Struct, frozen=True, rename="camel"):
    """The scores of one model version, frozen when a scenario is made."""

    portfolio_id: str
    currency: str
    model_id: str
    model_name: str
    model_version: int
    model_version_id: str
    ideas: list[SnapshotIdea]


class Skipped(msgspec.Struct, frozen=True):
    """An idea of the backlog that cannot be planned, and why."""

    idea: str
    reason: str


class TeamLeftOut(msgspec.Struct, frozen=True):
    """A team with effort on the scenario's ideas that the scenario does not constrain."""

    team: str
    ideas: list[str]
    effort: float


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about a scenario a programme manager chooses (the ideas come from scores)."""

    phases: list[PhaseDoc]
    teams: list[TeamDoc] = msgspec.field(default_factory=list)
    constraints: list[ConstraintDoc] = msgspec.field(default_factory=list)
    objective: ObjectiveDoc = msgspec.field(default_factory=ObjectiveDoc)
    solver: SolverDoc = msgspec.field(default_factory=SolverDoc)


def ideas_from_snapshot(snapshot: Snapshot) -> tuple[list[IdeaDoc], list[Skipped]]:
    """The plannable ideas of a snapshot, and the others with the reason they are left out.

    An idea needs a score (its value) and a cost to be planned; neither is ever guessed.
    """
    ideas: list[IdeaDoc] = []
    skipped: list[Skipped] = []
    for idea in snapshot.ideas:
        if idea.score is None:
            why = f"not scored under {snapshot.model_name} v{snapshot.model_version}"
            detail = f": missing {', '.join(idea.missing)}" if idea.missing else f": {idea.reason}"
            skipped.append(Skipped(idea=idea.ref, reason=why + detail))
            continue
        if idea.score < 0:
            skipped.append(Skipped(idea=idea.ref, reason=f"negative score {idea.score:g}: a plan only adds value"))
            continue
        if idea.cost is None:
            skipped.append(Skipped(idea=idea.ref, reason="no cost estimate"))
            continue
        attributes = {wire: getattr(idea, name) for name, wire in ATTRIBUTE_FIELDS if getattr(idea, name) is not None}
        ideas.append(
            IdeaDoc(
                id=idea.ref,
                title=idea.title,
                value=idea.score,
                cost=idea.cost,
                effort=dict(idea.effort),
                phases=list(idea.phases),
                attributes=attributes,
            )
        )
    return ideas, skipped


def stale_estimates(snapshot: Snapshot, ideas: Sequence[IdeaDoc]) -> dict[str, Any]:
    """Which of the scenario's planned ideas have stale estimates, said as a sentence too."""
    planned = {idea.id for idea in ideas}
    stale = sorted(idea.ref for idea in snapshot.ideas if idea.stale and idea.ref in planned)
    noun = "idea" if len(planned) == 1 else "ideas"
    verb = "has" if len(stale) == 1 else "have"
    return {"ideas": stale, "planned": len(planned),
            "summary": f"{len(stale)} of the {len(planned)} planned {noun} {verb} stale estimates"}  # fmt: skip


def assemble(name: str, settings: Settings, ideas: list[IdeaDoc], baseline: BaselineDoc | None = None) -> ScenarioDoc:
    """The scenario document, with each idea's effort kept only for teams the scenario plans.

    Effort of a team the scenario does not list would make the document invalid; a scenario
    that leaves a team out means "not constrained by that team".
    """
    teams = {team.key for team in settings.teams}
    phases = {phase.key for phase in settings.phases}
    kept = [
        msgspec.structs.replace(
            idea,
            effort={team: days for team, days in idea.effort.items() if team in teams},
            # An idea eligible only for phases this scenario leaves out is simply not eligible.
            phases=None if idea.phases is None else [key for key in idea.phases if key in phases],
        )
        for idea in ideas
    ]
    return ScenarioDoc(
        name=name,
        phases=settings.phases,
        teams=settings.teams,
        ideas=kept,
        constraints=settings.constraints,
        objective=settings.objective,
        solver=settings.solver,
        baseline=baseline,
    )


def backlog_effort_of(ideas: list[IdeaDoc]) -> dict[str, dict[str, float]]:
    """Each idea's effort per team, as the backlog (or the imported document) gives it."""
    return {idea.id: dict(idea.effort) for idea in ideas if idea.effort}


def with_backlog_effort(ideas: list[IdeaDoc], backlog_effort: dict[str, dict[str, float]]) -> list[IdeaDoc]:
    """The ideas with their effort for every team again, ready to be assembled for other teams."""
    return [
        msgspec.structs.replace(idea, effort=dict(backlog_effort[idea.id])) if idea.id in backlog_effort else idea
        for idea in ideas
    ]


def teams_left_out(document: ScenarioDoc, backlog_effort: dict[str, dict[str, float]]) -> list[TeamLeftOut]:
    """The teams the scenario does not list although its ideas need them, with those ideas.

    Their effort does not count against any capacity: the scenario's answer says so, since a
    team left out by mistake would otherwise look like a team with unlimited people.
    """
    listed = {team.key for team in document.teams}
    needed: dict[str, list[tuple[str, float]]] = {}
    for idea in document.ideas:
        for team, days in backlog_effort.get(idea.id, {}).items():
            if team not in listed and days > 0:
                needed.setdefault(team, []).append((idea.id, days))
    return [
        TeamLeftOut(team=team, ideas=sorted(ref for ref, _ in items), effort=sum(days for _, days in items))
        for team, items in sorted(needed.items())
    ]


def settings_of(document: ScenarioDoc) -> Settings:
    return Settings(
        phases=document.phases,
        teams=document.teams,
        constraints=document.constraints,
        objective=document.objective,
        solver=document.solver,
    )


def check(document: ScenarioDoc) -> None:
    """Raise ScenarioError (naming the field) unless the optimiser can take the document."""
    if len(document.ideas) > MAX_IDEAS_PER_SCENARIO:
        raise ScenarioError("ideas", f"at most {MAX_IDEAS_PER_SCENARIO} ideas per scenario, got {len(document.ideas)}")
    keys = [phase.key for phase in document.phases]
    for index, key in enumerate(keys):
        if key not in PHASES:
            raise ScenarioError(f"phases[{index}].key", f"unknown phase {key!r}; the phases are {', '.join(PHASES)}")
    if keys != sorted(keys, key=PHASES.index):
        raise ScenarioError("phases", f"phases must be in time order: {', '.join(PHASES)}")
    if document.solver.time_limit_seconds > MAX_TIME_LIMIT_SECONDS:
        raise ScenarioError("solver.timeLimitSeconds", f"at most {MAX_TIME_LIMIT_SECONDS:g} seconds")
    to_instance(document)


def explain_unknown_idea(message: str, skipped: Sequence[Skipped]) -> str:
    """The optimiser's "unknown idea" message, told better when the idea is a skipped one."""
    for item in skipped:
        if message == f"unknown idea {item.idea!r}":
            return f"idea {item.idea!r} is in the backlog, but this scenario skipped it ({item.reason})"
    return message


def fingerprint(document: ScenarioDoc) -> str:
    """A stable digest of everything that decides a run's result.

    The document is normalised through its own types first, so `5` and `5.0` agree.
    """
    normalised = msgspec.convert(msgspec.to_builtins(document), ScenarioDoc)
    canonical = msgspec.json.encode(msgspec.to_builtins(normalised), order="sorted")
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def as_json(document: ScenarioDoc) -> dict[str, Any]:
    return msgspec.to_builtins(document)
