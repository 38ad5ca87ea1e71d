"""The efficient frontier: how much value each total budget buys. Pure functions, no I/O.

A sweep scales every phase budget by the same factor, solves each scaled scenario, and
records (total budget, objective, best bound, gap). Where a point is not proven optimal the
chart shows the bound above it, so a leader sees how far the truth can be.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from typing import Annotated

import msgspec
from msgspec import Meta

from services.roadmap.optimiser.scenario import ScenarioDoc


class Sweep(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """Which budgets to try: `points` factors evenly from `from_factor` to `to_factor`."""

    from_factor: Annotated[float, Meta(ge=0, le=10)] = 0.5
    to_factor: Annotated[float, Meta(ge=0, le=10)] = 1.5
    points: Annotated[int, Meta(ge=2, le=41)] = 11
    time_limit_seconds_per_point: Annotated[float, Meta(gt=0, le=120)] = 10.0

    def __post_init__(self) -> None:
        if not self.from_factor < self.to_factor:
            raise ValueError("toFactor must be greater than fromFactor")

    def factors(self) -> list[float]:
        step = (self.to_factor - self.from_factor) / (self.points - 1)
        return [round(self.from_factor + n * step, 6) for n in range(self.points)]


class FrontierPoint(msgspec.Struct, frozen=True, rename="camel"):
    """One budget of a sweep; `added` and `removed` are its plan's ideas against the point before."""

    factor: float
    total_budget: float
    status: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    added: list[str] = []
    removed: list[str] = []


def scaled(document: ScenarioDoc, factor: float, time_limit_seconds: float) -> ScenarioDoc:
    """The scenario with every phase budget times `factor`, solved within the given time."""
    phases = [msgspec.structs.replace(phase, budget=phase.budget * factor) for phase in document.phases]
    solver = msgspec.structs.replace(document.solver, time_limit_seconds=time_limit_seconds)
    return msgspec.structs.replace(document, phases=phases, solver=solver)


def total_budget(document: ScenarioDoc) -> float:
    return sum(phase.budget for phase in document.phases)


WIDTH, HEIGHT = 760, 440
LEFT, RIGHT, TOP, BOTTOM = 90, 30, 60, 70


def nice_ticks(low: float, high: float, *, count: int = 6) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if not high > low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [round(math.floor(low / step) * step, 10)]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def tick_label(value: float) -> str:
    """A tick's text: thousands as k and millions as M, without trailing zeros."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.6g}{suffix}"
    return f"{value:,.6g}"


def frontier_svg(
    points: list[FrontierPoint], *, title: str, currency: str = "", current_budget: float | None = None
) -> str:
    """A self-contained SVG chart of value against total budget, for a leader to read.

    Filled points are plans proven best for their budget; hollow ones are the best plans
    found in the time allowed, with their bound (the most any plan could be worth) drawn as a
    dashed line above. The scenario's own budget is marked, ticks fall on round numbers, the
    value axis starts where the data do, and a table under the chart lists what each step of
    budget adds.
    """
    solved = [p for p in points if p.objective is not None]
    budgets = [p.total_budget for p in points] + ([current_budget] if current_budget else [])
    values = [v for p in solved for v in (p.objective, p.best_bound) if v is not None]
    x_ticks = nice_ticks(min(budgets, default=0.0), max(budgets, default=1.0))
    y_ticks = nice_ticks(min(values, default=0.0), max(values, default=1.0))
    x_low, x_high, y_low, y_high = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    rows = [p for p in solved if p.added or p.removed]
    height = HEIGHT + (18 * (len(rows) + 2) if rows else 0)

    def x(value: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (value - x_low) / ((x_high - x_low) or 1.0)

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (value - y_low) / ((y_high - y_low) or 1.0)

    unit = f" ({escape(currency)})" if currency else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="16">{escape(title)}</text>',
        f'<text x="{WIDTH / 2}" y="42" text-anchor="middle" fill="#555">'
        "● proven the best plan for that budget   ○ best plan found in the time allowed; "
        "dashed: the most any plan could be worth</text>",
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>',
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - BOTTOM + 42}" text-anchor="middle">'
        f"Total budget{unit}</text>",
        f'<text x="20" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 20 {(TOP + HEIGHT - BOTTOM) / 2})">Value of the plan (score-weighted)</text>',
    ]
    for tick in x_ticks:
        parts.append(
            f'<text x="{x(tick):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{tick_label(tick)}</text>'
        )
    for tick in y_ticks:
        parts.append(f'<text x="{LEFT - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick_label(tick)}</text>')
        parts.append(f'<line x1="{LEFT}" y1="{y(tick):.1f}" x2="{WIDTH - RIGHT}" y2="{y(tick):.1f}" stroke="#ddd"/>')
    if current_budget:
        cx = x(current_budget)
        parts.append(
            f'<line x1="{cx:.1f}" y1="{TOP}" x2="{cx:.1f}" y2="{HEIGHT - BOTTOM}" stroke="#8250df" stroke-dasharray="6,3"/>'
        )
        parts.append(
            f'<text x="{cx + 4:.1f}" y="{TOP + 12}" fill="#8250df">current budget {tick_label(current_budget)}</text>'
        )
    if solved:
        path = " ".join(f"{x(p.total_budget):.1f},{y(p.objective or 0.0):.1f}" for p in solved)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f6feb" stroke-width="2"/>')
    for p in solved:
        parts += _point(p, x, y)
    if rows:
        parts += _steps_table(rows, top=HEIGHT, unit=unit)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _point(p: FrontierPoint, x: Callable[[float], float], y: Callable[[float], float]) -> list[str]:
    px, py = x(p.total_budget), y(p.objective or 0.0)
    drawn = []
    if p.best_bound is not None and p.best_bound > (p.objective or 0.0) + 1e-9:
        top = y(p.best_bound)
        drawn.append(
            f'<line x1="{px:.1f}" y1="{py:.1f}" x2="{px:.1f}" y2="{top:.1f}" stroke="#d29922" stroke-dasharray="3,2"/>'
        )
        drawn.append(f'<line x1="{px - 5:.1f}" y1="{top:.1f}" x2="{px + 5:.1f}" y2="{top:.1f}" stroke="#d29922"/>')
    proven = p.status == "optimal"
    label = f"{'proven best' if proven else 'best found'}: value {p.objective:,.4g} at {tick_label(p.total_budget)}" + (
        "" if proven or p.best_bound is None else f"; could be up to {p.best_bound:,.4g}"
    )
    fill = "#1f6feb" if proven else "white"
    drawn.append(
        f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4.5" fill="{fill}" stroke="#1f6feb" stroke-width="1.5">'
        f"<title>{escape(label)}</title></circle>"
    )
    return drawn


def _steps_table(rows: list[FrontierPoint], *, top: float, unit: str) -> list[str]:
    """Under the chart: for each budget, the ideas its step adds (and drops) against the step before."""
    lines = [f'<text x="{LEFT}" y="{top}" font-weight="bold">What each step of budget buys</text>']
    for n, p in enumerate(rows, start=1):
        change = ", ".join(p.added) or "nothing new"
        if p.removed:
            change += f" (instead of {', '.join(p.removed)})"
        text = f"{tick_label(p.total_budget)}{unit}: value {p.objective:,.4g}, adds {change}"
        lines.append(f'<text x="{LEFT}" y="{top + 18 * n}">{escape(text)}</text>')
    return lines
