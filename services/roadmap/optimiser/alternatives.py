"""Alternatives to the best plan: other good plans that differ from it in enough ideas.

Two plans differ in an idea when it is in a different phase in each, or in one plan only. On
the binaries, the difference from a reference plan R is linear:

    sum over (i, r) in R of (1 - x[i, r])  +  sum over ideas i not in R of sum_p x[i, p]

Each alternative is one solve of the scenario's model with a row "difference >= d" for the
best plan and for every alternative found before it, and an objective floor
"value >= (1 - max_loss) x best value". So the k-th alternative is the best plan that differs
enough from the best plan and from alternatives 1..k-1: a sequence, not the best set of k.
"""

from __future__ import annotations

import math
import time

import msgspec
import pulp

from services.roadmap.optimiser import highs
from services.roadmap.optimiser.instance import Instance, Plan
from services.roadmap.optimiser.model import Model, build_model
from services.roadmap.optimiser.reach import analyse
from services.roadmap.optimiser.result import AssignmentDoc, MovedDoc
from services.roadmap.optimiser.solution import FEASIBLE, OPTIMAL, Solution, SolveConfig
from services.roadmap.optimiser.solve import InvalidPlanError, measure
from services.roadmap.optimiser.validate import validate

# Why the search for alternatives ended.
COUNT_REACHED, NONE_LEFT, TIME_LIMIT, NO_PLAN = "count_reached", "none_left", "time_limit", "no_plan"


class Alternative(msgspec.Struct, frozen=True):
    """One alternative plan, compared with the best plan (positions, as in `Plan`).

    `status`: `optimal` when it is proven the best plan that differs enough and loses little
    enough (given the alternatives before it), `feasible` otherwise. `loss`: the fraction of
    the best plan's objective (the pure value) it gives up; negative if the best plan was not
    optimal and this one is better. `best_bound` bounds what it maximised (with a baseline,
    the objective with penalty). `moved` holds (idea, phase in the best plan, phase here).
    """

    status: str
    plan: Plan
    objective: float
    loss: float
    best_bound: float
    added: tuple[tuple[int, int], ...]
    removed: tuple[tuple[int, int], ...]
    moved: tuple[tuple[int, int, int], ...]
    objective_with_penalty: float | None = None


class Alternatives(msgspec.Struct, frozen=True):
    """The alternatives found, and why the search ended (`stop_reason`, explained in `message`)."""

    alternatives: tuple[Alternative, ...]
    stop_reason: str
    message: str


def difference(a: Plan, b: Plan) -> int:
    """The number of ideas in a different phase in `a` and `b`, or in only one of them."""
    pa, pb = a.phase_of(), b.phase_of()
    return sum(1 for i in pa.keys() | pb.keys() if pa.get(i) != pb.get(i))


def alternatives(
    instance: Instance, solution: Solution, config: SolveConfig, *, count: int, min_difference: int, max_loss: float
) -> Alternatives:
    """Up to `count` plans, each differing from the best plan and from each other in at least
    `min_difference` ideas and worth at least (1 - `max_loss`) of its objective.

    One solve each, all within `config.time_limit_seconds` in total (with `config`'s gap and
    threads). The search ends early when it proves that no further plan exists. Every plan is
    re-checked by the validator, and its difference from the others recounted.
    """
    if count < 0 or min_difference < 1 or not 0 <= max_loss <= 1:
        raise ValueError("count must be >= 0, min_difference >= 1 and max_loss in [0, 1]")
    best = solution.plan
    if best is None or solution.objective is None:
        return Alternatives((), NO_PLAN, "the scenario has no plan to compare with")
    deadline = time.perf_counter() + config.time_limit_seconds
    reach = analyse(instance)
    model = build_model(instance)
    floor = (1 - max_loss) * solution.objective
    # A hair below the floor, so a plan exactly at it is not lost to rounding in the row.
    _row(
        model,
        "alt_floor",
        [(v, instance.value_in(i, p)) for (i, p), v in model.x.items()],
        floor - 1e-9 * max(1.0, abs(floor)),
    )
    found: list[Alternative] = []
    references = [best]
    while len(found) < count:
        _cut_off(model, references[-1], min_difference, len(references))
        left = deadline - time.perf_counter()
        if left <= 0:
            return Alternatives(tuple(found), TIME_LIMIT, "the time limit ended the search")
        run = highs.run(model, time_limit=left, relative_gap=config.relative_gap, threads=config.threads)
        if run.plan is None:
            if run.infeasible:
                return Alternatives(tuple(found), NONE_LEFT, "no other plan differs enough and loses little enough")
            return Alternatives(
                tuple(found), TIME_LIMIT, "the time limit ended the search before another plan was found"
            )
        plan = run.plan
        violations = validate(instance, plan)
        if violations and run.overran:  # a callback's incumbent, not HiGHS's answer: not used
            return Alternatives(
                tuple(found), TIME_LIMIT, "the time limit ended the search before another plan was found"
            )
        if violations:
            raise InvalidPlanError("; ".join(v.message for v in violations))
        if any(difference(plan, r) < min_difference for r in references):
            raise InvalidPlanError("an alternative does not differ enough from the plans before it")
        m = measure(instance, reach, model.tie_weight, plan, run.dual_bound)
        found.append(
            Alternative(
                status=OPTIMAL if m.proven else FEASIBLE,
                plan=plan,
                objective=m.objective,
                loss=0.0 if solution.objective == 0 else (solution.objective - m.objective) / abs(solution.objective),
                best_bound=m.bound,
                objective_with_penalty=m.with_penalty,
                **plan_diff(best, plan),
            )
        )
        references.append(plan)
    return Alternatives(tuple(found), COUNT_REACHED, f"found the {count} alternatives asked for")


def _row(model: Model, name: str, terms, rhs: float) -> None:
    expr = pulp.LpAffineExpression(terms)
    model.prob.addConstraint(pulp.LpConstraint(expr, sense=pulp.LpConstraintGE, rhs=rhs, name=name))


def _cut_off(model: Model, reference: Plan, d: int, n: int) -> None:
    """Add "differs from `reference` in at least `d` ideas" to the model."""
    phase_of = reference.phase_of()
    terms = []
    for (i, p), var in model.x.items():
        if i not in phase_of:
            terms.append((var, 1.0))
        elif phase_of[i] == p:
            terms.append((var, -1.0))
    _row(model, f"alt_differ_{n}", terms, d - len(phase_of))


def plan_diff(best: Plan, plan: Plan) -> dict[str, tuple]:
    """`plan` against `best`: ideas only in `plan` and only in `best` as (idea, phase), and ideas
    in both in different phases as (idea, phase in best, phase in plan)."""
    pb, pa = best.phase_of(), plan.phase_of()
    return {
        "added": tuple((i, p) for i, p in plan.assignments if i not in pb),
        "removed": tuple((i, p) for i, p in best.assignments if i not in pa),
        "moved": tuple((i, pb[i], pa[i]) for i, _ in plan.assignments if i in pb and pb[i] != pa[i]),
    }


class _Out(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    pass


class AlternativeDoc(_Out):
    status: str
    objective: float
    loss: float
    best_bound: float | None
    objective_with_penalty: float | None
    assignments: list[AssignmentDoc]
    added: list[AssignmentDoc]
    removed: list[AssignmentDoc]
    moved: list[MovedDoc]


class AlternativesDoc(_Out):
    alternatives: list[AlternativeDoc]
    stop_reason: str
    message: str


def alternatives_document(instance: Instance, result: Alternatives) -> AlternativesDoc:
    """The alternatives as a camelCase JSON-ready document, with ids and keys for positions."""
    ideas, phases = instance.ideas, instance.phases

    def pairs(items) -> list[AssignmentDoc]:
        return [AssignmentDoc(idea=ideas[i].id, phase=phases[p].key) for i, p in items]

    return AlternativesDoc(
        alternatives=[
            AlternativeDoc(
                status=a.status,
                objective=a.objective,
                loss=a.loss,
                best_bound=a.best_bound if math.isfinite(a.best_bound) else None,
                objective_with_penalty=a.objective_with_penalty,
                assignments=pairs(a.plan.assignments),
                added=pairs(a.added),
                removed=pairs(a.removed),
                moved=[MovedDoc(idea=ideas[i].id, from_=phases[p].key, to=phases[q].key) for i, p, q in a.moved],
            )
            for a in result.alternatives
        ],
        stop_reason=result.stop_reason,
        message=result.message,
    )
