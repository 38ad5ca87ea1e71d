"""Why each idea is left out of a plan, and what would bring it in.

Reasons, in the order they are tried: `excluded`, `not_eligible`, `blocked_by_dependency`,
`excluded_by`, `no_value`, `budget`, `capacity`, and `not_reached` (only for a plan that is
not proven optimal: the idea fits, the search stopped first). For `budget` and `capacity`
the detail gives the extra budget or capacity in one phase with which the idea and its missing
prerequisites fit on top of this plan, and, for the most valuable left-out ideas, a re-solve
with the idea forced in: the objective with it, and the value above which it would enter.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from typing import Any

from services.roadmap.optimiser import highs
from services.roadmap.optimiser.greedy import _State
from services.roadmap.optimiser.instance import Instance, Plan, plan_score, plan_value
from services.roadmap.optimiser.model import build_model
from services.roadmap.optimiser.reach import Reach, analyse
from services.roadmap.optimiser.solution import OPTIMAL, LeftOut, SolveConfig


def explain(
    instance: Instance,
    reach: Reach,
    plan: Plan,
    status: str,
    config: SolveConfig,
    progress: highs.Progress | None = None,
) -> tuple[list[LeftOut], int, int]:
    """Left-out reasons for every idea not in `plan`; also how many what-ifs ran and were skipped.

    `progress` is passed to each what-if re-solve; once it returns False the rest are skipped.
    """
    phase_of = plan.phase_of()
    state = _State(instance, reach)
    for i, p in plan.assignments:
        state.put(i, p)
    remaining = (list(state.budget), dict(state.capacity))
    state.budget = [math.inf] * len(instance.phases)
    state.capacity = {k: math.inf for k in state.capacity}
    state.log.clear()
    out: list[LeftOut] = []
    for i, idea in enumerate(instance.ideas):
        if i in phase_of:
            continue
        reason = _structural(instance, reach, i, phase_of)
        in_baseline = instance.baseline is not None and i in instance.baseline.phase_of
        if reason is None and idea.value <= 0 and not in_baseline:
            reason = ("no_value", {"message": "adds no value; among equal plans the cheaper one wins"})
        if reason is None:
            reason = _resources(instance, state, remaining, i, status)
        out.append(LeftOut(idea=i, reason=reason[0], detail=reason[1]))
    ran, skipped = what_ifs(instance, plan, status, config, out, progress, reach)
    return out, ran, skipped


def _structural(instance: Instance, reach: Reach, i: int, phase_of: dict[int, int]) -> tuple[str, dict] | None:
    ideas = instance.ideas
    if i in reach.excluded:
        return "excluded", {"constraint": f"constraints[{reach.excluded[i].ref}]"}
    if not ideas[i].phases:
        return "not_eligible", {"message": "eligible for no phase", "field": f"ideas[{i}].phases"}
    if reach.earliest[i] is None:
        return "blocked_by_dependency", _blocked(instance, reach, i)
    if not reach.excludes_of:
        return None  # no `excludes` in the scenario: no need to walk the prerequisites
    for j in _missing_closure(reach, i, phase_of):
        for c in reach.excludes_of.get(j, ()):
            chosen = [k for k in c.ideas if k in phase_of]
            if chosen:
                detail = {"constraint": f"constraints[{c.ref}]", "with": ideas[chosen[0]].id}
                if j != i:
                    detail["through"] = ideas[j].id
                return "excluded_by", detail
    return None


def _blocked(instance: Instance, reach: Reach, i: int) -> dict[str, Any]:
    req = reach.blocked_by.get(i)
    if req is None:
        return {"message": "no phase is left once its dependencies are placed"}
    on = instance.ideas[req.on]
    if reach.earliest[req.on] is None:
        why = "cannot be done itself"
    else:
        first = instance.phases[reach.earliest[req.on]].key
        when = "strictly before" if req.finish_to_start else "by"
        why = f"is done at the earliest in {first}, and it must be done {when} this idea's phase"
    return {"constraint": f"constraints[{req.ref}]", "requires": on.id, "message": f"{on.id} {why}"}


def _missing_closure(reach: Reach, i: int, phase_of: dict[int, int]) -> list[int]:
    seen, stack = {i}, [i]
    while stack:
        for r in reach.prerequisites.get(stack.pop(), ()):
            if r.on not in seen and r.on not in phase_of:
                seen.add(r.on)
                stack.append(r.on)
    return list(seen)


def _resources(instance: Instance, state: _State, remaining, i: int, status: str) -> tuple[str, dict]:
    budget_left, capacity_left = remaining
    best: tuple | None = None
    for p in state.reach.window(i):
        mark = len(state.log)
        if not state.place(i, p, p):
            continue
        added_cost: dict[int, float] = defaultdict(float)
        added_use: dict[tuple[int, int], float] = defaultdict(float)
        brought = [j for j in state.log[mark:] if j != i]
        for j in state.log[mark:]:
            q = state.phase_of[j]
            added_cost[q] += instance.ideas[j].cost
            for t, a in instance.ideas[j].effort:
                added_use[t, q] += a
        state.undo(mark)
        budget_short = {q: c - budget_left[q] for q, c in added_cost.items() if c > budget_left[q] + 1e-9}
        capacity_short = {k: u - capacity_left[k] for k, u in added_use.items() if u > capacity_left[k] + 1e-9}
        rank = (len(budget_short) + len(capacity_short), sum(budget_short.values()), sum(capacity_short.values()))
        if best is None or rank < best[0]:
            best = (rank, p, budget_short, capacity_short, brought)
    ideas, phases, teams = instance.ideas, instance.phases, instance.teams
    if best is None:
        return "blocked_by_dependency", {"message": "its prerequisites cannot be placed early enough"}
    _, p, budget_short, capacity_short, brought = best
    detail: dict[str, Any] = {"phase": phases[p].key}
    if brought:
        detail["withPrerequisites"] = [ideas[j].id for j in brought]
    if budget_short:
        detail["extraBudget"] = [{"phase": phases[q].key, "amount": a} for q, a in sorted(budget_short.items())]
    if capacity_short:
        detail["extraCapacity"] = [
            {"team": teams[t].key, "phase": phases[q].key, "amount": a} for (t, q), a in sorted(capacity_short.items())
        ]
    if budget_short or capacity_short:
        detail["message"] = "fits on top of this plan with the extra amounts listed"
        return ("budget" if budget_short else "capacity"), detail
    if status == OPTIMAL:
        detail["message"] = "fits, but including it does not raise the objective"
        return "no_value", detail
    detail["message"] = "fits; the search stopped before adding it (the plan is not proven optimal)"
    return "not_reached", detail


def what_ifs(
    instance: Instance,
    plan: Plan,
    status: str,
    config: SolveConfig,
    out: list[LeftOut],
    progress: highs.Progress | None = None,
    reach: Reach | None = None,
) -> tuple[int, int]:
    """Re-solve with each of the `config.what_if_limit` most valuable budget- or
    capacity-bound left-out ideas forced in, within `config.what_if_budget()` seconds in all;
    fill in each one's `whatIf` (None where skipped). Returns how many ran and were skipped.

    Left-out reasons are ready without these; a caller can deliver the plan first and run
    them afterwards (the optimisation job does).
    """
    reach = reach or analyse(instance)
    candidates = [n for n, lo in enumerate(out) if lo.reason in ("budget", "capacity")]
    candidates.sort(key=lambda n: -instance.ideas[out[n].idea].value)
    score = plan_score(instance, plan)
    deadline = time.perf_counter() + config.what_if_budget()
    ran = 0
    stopped = False
    for rank, n in enumerate(candidates):
        left = deadline - time.perf_counter()
        if stopped or rank >= config.what_if_limit or left <= 0.05:
            out[n].detail["whatIf"] = None
            continue
        i = out[n].idea
        model = build_model(instance, force_in=i, reach=reach)
        run = highs.run(model, time_limit=left, relative_gap=0.0, threads=config.threads, progress=progress)
        if run.stopped:  # the caller wants the result now: a half-done what-if is not reported
            stopped = True
            out[n].detail["whatIf"] = None
            continue
        ran += 1
        out[n].detail["whatIf"] = _what_if_detail(instance, plan, status, score, i, run)
    return ran, len(candidates) - ran


def _what_if_detail(instance: Instance, plan: Plan, status: str, score: float, i: int, run) -> dict[str, Any]:
    if run.plan is None:
        if run.infeasible:
            return {"feasible": False, "message": "no plan can include it: the constraints leave no room"}
        return {"feasible": None, "message": "the re-solve found no plan within its time"}
    forced_value = plan_value(instance, run.plan)
    # The loss in what is maximised: value, less any move penalty (see instance.plan_score).
    loss = max(0.0, score - plan_score(instance, run.plan))
    p = run.plan.phase_of()[i]
    chosen = plan.phase_of()
    forced = run.plan.phase_of()
    detail: dict[str, Any] = {
        "feasible": True,
        "objectiveWithIt": forced_value,
        "loss": loss,
        "phase": instance.phases[p].key,
        "displaces": [instance.ideas[j].id for j in chosen if j not in forced],
        "proven": run.proven and status == OPTIMAL,
    }
    if instance.discount[p] > 0:
        detail["entersAboveValue"] = instance.ideas[i].value + loss / instance.discount[p]
    return detail
