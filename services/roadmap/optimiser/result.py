"""The result document: what a solve found, in camelCase JSON, and a readable summary."""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec

from services.roadmap.optimiser.baseline import BaselineDiff, baseline_diff
from services.roadmap.optimiser.instance import Instance
from services.roadmap.optimiser.solution import Solution


class _Out(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    pass


class AssignmentDoc(_Out):
    idea: str
    phase: str


class CapacityUseDoc(_Out):
    team: str
    capacity: float
    use: float


class PhaseResultDoc(_Out):
    key: str
    budget: float
    spend: float
    capacity: list[CapacityUseDoc]


class LeftOutDoc(_Out):
    idea: str
    reason: str
    detail: dict[str, Any]


class ConflictDoc(_Out):
    """One conflict: its kind, a sentence naming the ideas, and the fields that make it up.

    A field of an idea is named by the idea's id (`ideas[CJ-7].phases`), never its position:
    a scenario made from the backlog has no idea list its user wrote, and in one written by
    hand the id finds the idea as well as the position does.
    """

    kind: str
    message: str
    constraints: list[str]


class SolverReportDoc(_Out):
    name: str
    version: str
    time_limit_seconds: float
    relative_gap: float
    seconds: float
    model_status: str
    greedy_objective: float | None
    what_if_resolved: int
    what_if_skipped: int
    stop_reason: str = "completed"


class MovedDoc(_Out):
    idea: str
    from_: str = msgspec.field(name="from")
    to: str


class BaselineResultDoc(_Out):
    move_penalty: float
    penalty: float
    kept: list[AssignmentDoc]
    moved: list[MovedDoc]
    dropped: list[AssignmentDoc]
    added: list[AssignmentDoc]
    ignored: list[str]


class ResultDoc(_Out):
    name: str
    status: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    assignments: list[AssignmentDoc]
    phases: list[PhaseResultDoc]
    left_out: list[LeftOutDoc]
    diagnosis: list[ConflictDoc]
    solver: SolverReportDoc
    baseline_penalty: float | None = None
    objective_with_penalty: float | None = None
    baseline: BaselineResultDoc | None = None


def result_document(instance: Instance, solution: Solution) -> ResultDoc:
    """The result document of `solution`, with ids and keys in place of positions."""
    ideas, phases, teams = instance.ideas, instance.phases, instance.teams
    plan = solution.plan
    phase_docs: list[PhaseResultDoc] = []
    if plan is not None:
        spend = [0.0] * len(phases)
        use = [[0.0] * len(phases) for _ in teams]
        for i, p in plan.assignments:
            spend[p] += ideas[i].cost
            for t, amount in ideas[i].effort:
                use[t][p] += amount
        phase_docs = [
            PhaseResultDoc(
                key=phase.key,
                budget=phase.budget,
                spend=spend[p],
                capacity=[
                    CapacityUseDoc(team=team.key, capacity=team.capacity[p], use=use[t][p])
                    for t, team in enumerate(teams)
                ],
            )
            for p, phase in enumerate(phases)
        ]
    stats = solution.stats
    return ResultDoc(
        name=instance.name,
        status=solution.status,
        objective=solution.objective,
        best_bound=_finite(solution.best_bound),
        gap=_finite(solution.gap),
        assignments=[]
        if plan is None
        else [AssignmentDoc(idea=ideas[i].id, phase=phases[p].key) for i, p in plan.assignments],
        phases=phase_docs,
        left_out=[LeftOutDoc(idea=ideas[lo.idea].id, reason=lo.reason, detail=lo.detail) for lo in solution.left_out],
        diagnosis=[
            ConflictDoc(kind=c.kind, message=c.message, constraints=[_by_id(instance, path) for path in c.constraints])
            for c in solution.diagnosis
        ],
        solver=SolverReportDoc(
            name=stats.solver,
            version=stats.solver_version,
            time_limit_seconds=stats.time_limit_seconds,
            relative_gap=stats.relative_gap,
            seconds=round(stats.seconds, 3),
            model_status=stats.model_status,
            greedy_objective=stats.greedy_objective,
            what_if_resolved=stats.explained_what_if,
            what_if_skipped=stats.skipped_what_if,
            stop_reason=stats.stop_reason,
        ),
        baseline_penalty=solution.baseline_penalty,
        objective_with_penalty=solution.objective_with_penalty,
        baseline=None if plan is None else _baseline_doc(instance, baseline_diff(instance, plan)),
    )


def _baseline_doc(instance: Instance, diff: BaselineDiff | None) -> BaselineResultDoc | None:
    if diff is None:
        return None
    ideas, phases = instance.ideas, instance.phases

    def pairs(items: tuple[tuple[int, int], ...]) -> list[AssignmentDoc]:
        return [AssignmentDoc(idea=ideas[i].id, phase=phases[p].key) for i, p in items]

    return BaselineResultDoc(
        move_penalty=diff.move_penalty,
        penalty=diff.penalty,
        kept=pairs(diff.kept),
        moved=[MovedDoc(idea=ideas[i].id, from_=phases[a].key, to=phases[b].key) for i, a, b in diff.moved],
        dropped=pairs(diff.dropped),
        added=pairs(diff.added),
        ignored=list(diff.ignored),
    )


_IDEA_AT = re.compile(r"^ideas\[(\d+)\]")


def _by_id(instance: Instance, path: str) -> str:
    """`ideas[7].phases` as `ideas[CJ-8].phases`: the idea named by its id (see ConflictDoc)."""
    found = _IDEA_AT.match(path)
    if found is None or int(found.group(1)) >= len(instance.ideas):
        return path
    return f"ideas[{instance.ideas[int(found.group(1))].id}]{path[found.end() :]}"


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def encode_result(doc: ResultDoc) -> bytes:
    """The result document as indented JSON."""
    return msgspec.json.format(msgspec.json.encode(doc), indent=2) + b"\n"


def _num(x: float) -> str:
    return f"{x:,.0f}" if x == int(x) else f"{x:,.2f}"


def summary(doc: ResultDoc) -> str:
    """A few lines a programme manager can read: status, objective, gap, spend per phase."""
    lines = [f"Scenario: {doc.name or '(unnamed)'}", f"Status:   {doc.status}"]
    if doc.objective is not None and doc.objective_with_penalty is not None:
        # The bound is on what was maximised, the value minus the move penalty: print both
        # figures on that footing, and the plain value beside them.
        lines.append(
            f"Value: {doc.objective:,.4g}   move penalty paid: {doc.baseline_penalty or 0:,.4g}   "
            f"value minus penalty: {doc.objective_with_penalty:,.4g}   best bound: {doc.best_bound:,.4g}   "
            f"gap: {doc.gap:.2%}"
        )
    elif doc.objective is not None:
        lines.append(f"Objective: {doc.objective:,.4g}   best bound: {doc.best_bound:,.4g}   gap: {doc.gap:.2%}")
    elif doc.best_bound is not None:
        lines.append(f"No plan found; best bound {doc.best_bound:,.4g}")
    if doc.phases:
        lines.append("")
        lines.append(f"{'phase':<20} {'ideas':>6} {'spend':>14} {'budget':>14} {'used':>6}")
        count = {p.key: 0 for p in doc.phases}
        for a in doc.assignments:
            count[a.phase] += 1
        for p in doc.phases:
            used = f"{p.spend / p.budget:.0%}" if p.budget > 0 else "-"
            lines.append(f"{p.key:<20} {count[p.key]:>6} {_num(p.spend):>14} {_num(p.budget):>14} {used:>6}")
    if doc.left_out:
        reasons: dict[str, int] = {}
        for lo in doc.left_out:
            reasons[lo.reason] = reasons.get(lo.reason, 0) + 1
        lines.append("")
        lines.append("Left out: " + ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())))
    for c in doc.diagnosis:
        lines.append("")
        lines.append(f"Conflict ({c.kind}): {c.message}")
        lines.append("  constraints: " + ", ".join(c.constraints))
    lines.append("")
    lines.append(
        f"Solver: {doc.solver.name} {doc.solver.version}, {doc.solver.seconds:.2f} s ({doc.solver.model_status})"
    )
    return "\n".join(lines)
