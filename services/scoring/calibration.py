"""How far delivery strayed from the estimates, per team and per department. Pure: no I/O.

For every delivered idea with actuals, the ratio actual / estimated (1.2: it took 20% more):

- effort, per team: each team's actual effort over its estimated effort on the idea;
- cost, per team: the idea's cost ratio counts for its lead team, the team with the most
  estimated effort (ties: the first key in byte order), since an idea has one cost;
- per department (the idea's owning department): its cost ratio, and its total actual effort
  over its total estimated effort (over the teams both name);
- KPI targets: an idea's KPI counts once, by its latest measurement that has a target; the share
  reached is per lead team and department, and overall;
- how the ideas' delivery was known: how many by Jira (every planned issue done), how many
  reported by hand (never tracked in Jira).

Each figure is the median of the ratios, their spread (the interquartile range, p75 - p25,
quartiles by the inclusive method; 0 for a single ratio) and their count. An estimate of 0 or
a missing one gives no ratio: nothing is guessed.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping

import msgspec


class Ratios(msgspec.Struct, frozen=True, rename="camel"):
    median: float
    spread: float
    count: int


class KpiShare(msgspec.Struct, frozen=True, rename="camel"):
    measured: int
    reached: int
    share: float


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """A delivered idea: what it was estimated at, what it took, and its KPIs against their targets."""

    ref: str
    department: str | None
    estimated_cost: float | None
    estimated_effort: Mapping[str, float]
    actual_cost: float | None
    actual_effort: Mapping[str, float]
    kpis_reached: tuple[bool, ...] = ()
    delivered_via: str = "manual"


class Group(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    """The calibration of one team or department."""

    key: str
    ideas: int
    cost: Ratios | None
    effort: Ratios | None
    kpi_targets: KpiShare | None


class DeliveredVia(msgspec.Struct, frozen=True, kw_only=True):
    """Of the report's ideas, how many Jira said were done, and how many were reported by hand."""

    jira: int = 0
    manual: int = 0


class Report(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    ideas: int
    teams: list[Group]
    departments: list[Group]
    kpi_targets: KpiShare | None
    delivered_via: DeliveredVia = DeliveredVia()


def ratios(values: Iterable[float]) -> Ratios | None:
    """Median, interquartile range and count of `values`; None if there are none."""
    found = sorted(values)
    if not found:
        return None
    spread = 0.0
    if len(found) > 1:
        q1, _, q3 = statistics.quantiles(found, n=4, method="inclusive")
        spread = q3 - q1
    return Ratios(median=_round(statistics.median(found)), spread=_round(spread), count=len(found))


def share(reached: Iterable[bool]) -> KpiShare | None:
    found = list(reached)
    if not found:
        return None
    hits = sum(found)
    return KpiShare(measured=len(found), reached=hits, share=_round(hits / len(found)))


def lead_team(effort: Mapping[str, float]) -> str | None:
    """The team with the most estimated effort (ties: the first key in byte order), or None."""
    if not effort:
        return None
    return min(effort, key=lambda team: (-effort[team], team))


def _ratio(actual: float | None, estimated: float | None) -> float | None:
    if actual is None or not estimated:
        return None
    return actual / estimated


def _round(value: float) -> float:
    return round(value, 4)


class _Acc:
    def __init__(self) -> None:
        self.ideas: set[str] = set()
        self.cost: list[float] = []
        self.effort: list[float] = []
        self.kpis: list[bool] = []

    def group(self, key: str) -> Group:
        return Group(key=key, ideas=len(self.ideas), cost=ratios(self.cost), effort=ratios(self.effort),
                     kpi_targets=share(self.kpis))  # fmt: skip


def calibrate(outcomes: Iterable[Outcome]) -> Report:
    """The calibration report of these delivered ideas."""
    teams: dict[str, _Acc] = {}
    departments: dict[str, _Acc] = {}
    every_kpi: list[bool] = []
    count, by_jira = 0, 0
    for outcome in outcomes:
        count += 1
        by_jira += outcome.delivered_via == "jira"
        every_kpi += outcome.kpis_reached
        cost = _ratio(outcome.actual_cost, outcome.estimated_cost)
        for team, estimated in outcome.estimated_effort.items():
            effort = _ratio(outcome.actual_effort.get(team), estimated)
            if effort is not None:
                acc = teams.setdefault(team, _Acc())
                acc.ideas.add(outcome.ref)
                acc.effort.append(effort)
        lead = lead_team(outcome.estimated_effort)
        if lead is not None and (cost is not None or outcome.kpis_reached):
            acc = teams.setdefault(lead, _Acc())
            acc.ideas.add(outcome.ref)
            acc.cost += [cost] if cost is not None else []
            acc.kpis += outcome.kpis_reached
        if outcome.department is not None:
            acc = departments.setdefault(outcome.department, _Acc())
            acc.ideas.add(outcome.ref)
            acc.cost += [cost] if cost is not None else []
            shared = [team for team in outcome.estimated_effort if team in outcome.actual_effort]
            total = _ratio(
                sum(outcome.actual_effort[t] for t in shared), sum(outcome.estimated_effort[t] for t in shared)
            )
            acc.effort += [total] if total is not None and shared else []
            acc.kpis += outcome.kpis_reached
    return Report(
        ideas=count,
        teams=[acc.group(key) for key, acc in sorted(teams.items())],
        departments=[acc.group(key) for key, acc in sorted(departments.items())],
        kpi_targets=share(every_kpi),
        delivered_via=DeliveredVia(jira=by_jira, manual=count - by_jira),
    )
