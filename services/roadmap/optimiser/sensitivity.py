"""Budget sensitivity: what one phase's budget is worth, exactly where that can be proven.

For an integer programme the best objective is a step function of a phase's budget b (the
other budgets fixed): f(b) stays at its current value V over a plateau [low, high) and jumps
at `high`. Both ends are found exactly, by one solve each rather than by bisection:

- low  = the least spend in the phase of any plan worth at least V (below it, something goes);
- high = the least spend in the phase of any plan worth more than V (the budget row dropped);
  then one more solve gives f(high), the value of that next step.

"Worth" is what the solver maximises (the value; with a baseline, the value less the move
penalty). Each answer is `proven` only if every solve behind it was proven optimal. The LP
relaxation's dual price of the budget row, and HiGHS's ranging of it, are reported separately:
a marginal value of the relaxation, not of the plan.
"""

from __future__ import annotations

import math
import time

import highspy
import msgspec
import pulp

from services.roadmap.optimiser import highs
from services.roadmap.optimiser.alternatives import plan_diff
from services.roadmap.optimiser.instance import Instance, Plan, plan_score
from services.roadmap.optimiser.model import Model, build_model, value_grid
from services.roadmap.optimiser.solution import OPTIMAL, Solution


class SensitivityConfig(msgspec.Struct, frozen=True):
    """Limits for the re-solves: seconds and solves in all (three MILPs and one LP per phase)."""

    time_limit_seconds: float = 30.0
    max_solves: int = 40
    threads: int | None = None

    def __post_init__(self) -> None:
        if not self.time_limit_seconds > 0 or self.max_solves < 0:
            raise ValueError("time limit must be > 0 and max_solves >= 0")


class _Out(msgspec.Struct, frozen=True, rename="camel"):
    pass


class Plateau(_Out):
    """The budgets [low, high) over which the best objective stays what it is now.

    `high` is None when no budget in this phase alone raises the objective.
    """

    low: float
    high: float | None


class StepIdea(_Out):
    """An idea the next step plans, with the value it adds there."""

    idea: str
    phase: str
    value: float


class StepMove(_Out):
    idea: str
    from_: str = msgspec.field(name="from")
    to: str


class NextStep(_Out):
    """The next improvement: at budget `budget` (`extra` more) the objective gains `gain`.

    `added`, `removed` and `moved` say what the better plan at that budget does differently
    from the current one, so a leader reads which ideas the money buys, not only a number.
    `gain_per_thousand` is the gain per 1,000 of the portfolio's currency. Both per-unit
    figures are None when `extra` <= 0: the solution was not optimal, and a better plan fits
    the budget as it is.
    """

    budget: float
    extra: float
    gain: float
    gain_per_unit: float | None
    gain_per_thousand: float | None = None
    added: list[StepIdea] = []
    removed: list[StepIdea] = []
    moved: list[StepMove] = []


class LpPrice(_Out):
    """The LP relaxation's marginal value of one more unit of this budget (not the plan's),
    valid while the budget stays within [budget_low, budget_high].

    Where the relaxation does not use the whole budget its price is 0 for any budget down to
    what it spends (`budget_low`) and without limit above. Where it does, the range is HiGHS's
    ranging of the budget row's bound. A range that would not contain the budget itself is not
    reported (None): HiGHS's figures for a row that is not at its bound describe its activity,
    not its bound, and once read as a budget range they misled (a range of 73,000 to 93,000 for
    a budget of 150,000)."""

    price: float
    budget_low: float | None
    budget_high: float | None


class PhaseSensitivity(_Out):
    """One phase's budget: its use, whether more of it would pay, and by how much.

    `binding`: whether some extra budget in this phase raises the objective (None if the
    search did not finish). `proven`: whether `plateau` and `next_step` rest on solves proven
    optimal, and the solution itself is optimal; otherwise they are estimates. `note` says
    what was skipped or not proven.
    """

    phase: str
    budget: float
    spend: float
    binding: bool | None
    plateau: Plateau | None
    next_step: NextStep | None
    lp_price: LpPrice | None
    proven: bool
    note: str = ""


def budget_sensitivity(instance: Instance, solution: Solution, config: SensitivityConfig) -> list[PhaseSensitivity]:
    """The sensitivity of `solution`'s objective to each phase budget (see the module doc)."""
    plan = solution.plan
    if plan is None:
        return []
    search = _Search(instance, config)
    current = plan_score(instance, plan)
    grid = value_grid(instance)
    step = grid / 2 if grid is not None else 1e-6 * max(1.0, abs(current))
    prices = search.lp_prices()
    out = []
    for p, phase in enumerate(instance.phases):
        spend = math.fsum(instance.ideas[i].cost for i, q in plan.assignments if q == p)
        common = {"phase": phase.key, "budget": phase.budget, "spend": spend, "lp_price": prices.get(p)}
        low = search.least_spend(p, current - step)
        high = search.least_spend(p, current + step) if low is not None else None
        if low is None or (high is None and not search.settled):
            note = "skipped or stopped: the time or solve limit was reached"
            out.append(PhaseSensitivity(**common, binding=None, plateau=None, next_step=None, proven=False, note=note))
            continue
        proven = search.proven and solution.status == OPTIMAL
        next_step = None
        if high is not None:
            better = search.best_at(p, high[0])
            if better is None:
                note = "the value of the next step was not found within the limits"
                out.append(
                    PhaseSensitivity(
                        **common,
                        binding=True,
                        plateau=Plateau(low[0], high[0]),
                        next_step=None,
                        proven=False,
                        note=note,
                    )
                )
                continue
            next_step = _next_step(instance, plan, high[0] - phase.budget, high[0], better[0] - current, better[1])
            proven = proven and search.proven
        note = "" if proven else "estimates: a re-solve or the solution itself was not proven optimal"
        plateau = Plateau(low[0], None if high is None else high[0])
        out.append(
            PhaseSensitivity(
                **common, binding=high is not None, plateau=plateau, next_step=next_step, proven=proven, note=note
            )
        )
    return out


def _next_step(instance: Instance, plan: Plan, extra: float, budget: float, gain: float, better: Plan) -> NextStep:
    ideas, phases = instance.ideas, instance.phases
    diff = plan_diff(plan, better)

    def listed(pairs: tuple[tuple[int, int], ...]) -> list[StepIdea]:
        return [StepIdea(idea=ideas[i].id, phase=phases[p].key, value=instance.score_in(i, p)) for i, p in pairs]

    return NextStep(
        budget=budget,
        extra=extra,
        gain=gain,
        gain_per_unit=gain / extra if extra > 0 else None,
        gain_per_thousand=1000 * gain / extra if extra > 0 else None,
        added=listed(diff["added"]),
        removed=listed(diff["removed"]),
        moved=[StepMove(idea=ideas[i].id, from_=phases[a].key, to=phases[b].key) for i, a, b in diff["moved"]],
    )


class _Search:
    """The re-solves, within the configured seconds and number of solves."""

    def __init__(self, instance: Instance, config: SensitivityConfig) -> None:
        self.instance, self.config = instance, config
        self.deadline = time.perf_counter() + config.time_limit_seconds
        self.solves = 0
        self.proven = True  # every solve so far proven optimal
        self.settled = True  # the last solve ended with an answer (a plan, or proven infeasible)

    def _left(self) -> float | None:
        left = self.deadline - time.perf_counter()
        if left <= 0.01 or self.solves >= self.config.max_solves:
            return None
        self.solves += 1
        return left

    def _score_terms(self, model: Model):
        return [(v, self.instance.score_in(i, p)) for (i, p), v in model.x.items()]

    def least_spend(self, p: int, at_least: float) -> tuple[float, Plan] | None:
        """The least spend in phase `p` of a plan scoring at least `at_least`, other budgets as they are."""
        left = self._left()
        if left is None:
            self.settled = False
            return None
        model = build_model(self.instance, drop=frozenset({f"phases[{p}].budget"}), objective=False)
        floor = pulp.LpAffineExpression(self._score_terms(model))
        model.prob.addConstraint(pulp.LpConstraint(floor, sense=pulp.LpConstraintGE, rhs=at_least, name="floor"))
        cost = [(v, -self.instance.ideas[i].cost) for (i, q), v in model.x.items() if q == p]
        model.prob.setObjective(pulp.LpAffineExpression(cost))
        run = highs.run(model, time_limit=left, relative_gap=0.0, threads=self.config.threads)
        self.settled = run.plan is not None or run.infeasible
        self.proven = self.proven and (run.proven or run.infeasible)
        if run.plan is None:
            return None
        spend = math.fsum(self.instance.ideas[i].cost for i, q in run.plan.assignments if q == p)
        return spend, run.plan

    def best_at(self, p: int, budget: float) -> tuple[float, Plan] | None:
        """The best score, and its plan, with phase `p`'s budget set to `budget`."""
        left = self._left()
        if left is None:
            return None
        phases = list(self.instance.phases)
        phases[p] = msgspec.structs.replace(phases[p], budget=budget)
        model = build_model(msgspec.structs.replace(self.instance, phases=tuple(phases)), objective=False)
        model.prob.setObjective(pulp.LpAffineExpression(self._score_terms(model)))
        run = highs.run(model, time_limit=left, relative_gap=0.0, threads=self.config.threads)
        self.proven = self.proven and run.proven
        return None if run.plan is None else (plan_score(self.instance, run.plan), run.plan)

    def lp_prices(self) -> dict[int, LpPrice]:
        """The LP relaxation's dual price and ranging of each phase budget row (one LP)."""
        left = self._left()
        if left is None:
            return {}
        model = build_model(self.instance, objective=False)
        model.prob.setObjective(pulp.LpAffineExpression(self._score_terms(model)))
        h = highs.solve_lp(model, time_limit=left, threads=self.config.threads)
        if h is None:
            return {}
        lp = h.getSolution()
        basis = h.getBasis()
        _, ranging = h.getRanging()
        out = {}
        for p, phase in enumerate(self.instance.phases):
            names = model.groups.get(f"phases[{p}].budget")
            if not names:
                continue
            row = model.prob.get_constraint_by_name(names[0]).index
            low: float | None
            high: float | None
            if basis.valid and basis.row_status[row] == highspy.HighsBasisStatus.kBasic:
                # Not at its bound: the relaxation leaves budget unspent, so its price is 0
                # from what it spends upwards, whatever the ranging says about the activity.
                low, high = lp.row_value[row], None
            elif ranging.valid:
                low, high = _finite(ranging.row_bound_dn.value_[row]), _finite(ranging.row_bound_up.value_[row])
            else:
                low = high = None
            if (low is not None and low > phase.budget + 1e-9) or (high is not None and high < phase.budget - 1e-9):
                low = high = None
            # PuLP hands HiGHS the negated objective to minimise: the price is minus the dual.
            out[p] = LpPrice(price=-lp.row_dual[row] + 0.0, budget_low=low, budget_high=high)
        return out


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
