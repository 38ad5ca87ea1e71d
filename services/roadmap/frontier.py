"""The efficient frontier: how much value each total budget buys. Pure functions, no I/O.

A sweep scales every phase budget by the same factor, solves each scaled scenario, and
records (total budget, objective, best bound, gap). Where a point is not proven optimal the
chart shows the bound above it, so a leader sees how far the truth can be.
"""

from __future__ import annotations

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
    factor: float
    total_budget: float
    status: str
    objective: float | None
    best_bound: float | None
    gap: float | None


def scaled(document: ScenarioDoc, factor: float, time_limit_seconds: float) -> ScenarioDoc:
    """The scenario with every phase budget times `factor`, solved within the given time."""
    phases = [msgspec.structs.replace(phase, budget=phase.budget * factor) for phase in document.phases]
    solver = msgspec.structs.replace(document.solver, time_limit_seconds=time_limit_seconds)
    return msgspec.structs.replace(document, phases=phases, solver=solver)


def total_budget(document: ScenarioDoc) -> float:
    return sum(phase.budget for phase in document.phases)


WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 80, 30, 50, 60


def frontier_svg(points: list[FrontierPoint], *, title: str, currency: str = "") -> str:
    """A self-contained SVG line chart of objective against total budget, bounds shown above."""
    solved = [p for p in points if p.objective is not None]
    x_max = max((p.total_budget for p in points), default=1.0) or 1.0
    y_max = max([p.best_bound or 0.0 for p in solved] + [p.objective or 0.0 for p in solved] + [1.0])

    def x(value: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * value / x_max

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * value / y_max

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="16">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>',
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 15}" text-anchor="middle">'
        f"Total budget{' (' + escape(currency) + ')' if currency else ''}</text>",
        f'<text x="18" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 18 {(TOP + HEIGHT - BOTTOM) / 2})">Value (objective)</text>',
    ]
    y_format = ",.0f" if y_max >= 100 else ",.2f"
    for n in range(5):
        gx, gy = x_max * n / 4, y_max * n / 4
        parts.append(f'<text x="{x(gx):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{gx:,.0f}</text>')
        parts.append(f'<text x="{LEFT - 8}" y="{y(gy) + 4:.1f}" text-anchor="end">{gy:{y_format}}</text>')
        parts.append(
            f'<line x1="{LEFT}" y1="{y(gy):.1f}" x2="{WIDTH - RIGHT}" y2="{y(gy):.1f}" stroke="#ddd"/>'
        )
    if solved:
        path = " ".join(f"{x(p.total_budget):.1f},{y(p.objective or 0.0):.1f}" for p in solved)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f6feb" stroke-width="2"/>')
    for p in solved:
        px, py = x(p.total_budget), y(p.objective or 0.0)
        if p.best_bound is not None and p.best_bound > (p.objective or 0.0):
            parts.append(
                f'<line x1="{px:.1f}" y1="{py:.1f}" x2="{px:.1f}" y2="{y(p.best_bound):.1f}" '
                f'stroke="#d29922" stroke-dasharray="3,2"/>'
            )
        fill = "#1f6feb" if p.status == "optimal" else "white"
        label = f"{p.status}: {p.objective:,.1f} at {p.total_budget:,.0f}" + (
            f", gap {p.gap:.1%}" if p.gap else ""
        )
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{fill}" stroke="#1f6feb"><title>{escape(label)}</title></circle>'
        )
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="{TOP - 8}" text-anchor="end" fill="#555">'
        "filled: proven optimal; hollow with dashes: best plan found and its bound</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
