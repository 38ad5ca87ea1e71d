"""The frontier sweep's budgets, scaled scenarios and its SVG chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import msgspec
import pytest

from services.roadmap.optimiser.scenario import IdeaDoc, PhaseDoc, ScenarioDoc, SolverDoc
from services.roadmap.scenarios.frontier import FrontierPoint, Sweep, frontier_svg, scaled, total_budget

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"


def test_a_sweep_spreads_its_factors_evenly_between_the_ends():
    assert Sweep(from_factor=0.5, to_factor=1.5, points=5).factors() == [0.5, 0.75, 1.0, 1.25, 1.5]


@pytest.mark.parametrize(
    "bad", [{"fromFactor": 2, "toFactor": 1}, {"points": 1}, {"points": 500}, {"timeLimitSecondsPerPoint": 0}]
)
def test_a_bad_sweep_is_refused(bad):
    with pytest.raises((ValueError, msgspec.ValidationError)):
        msgspec.convert(bad, Sweep)


def test_scaling_multiplies_every_budget_and_sets_the_time_limit():
    document = ScenarioDoc(
        phases=[PhaseDoc(key="improve", budget=100), PhaseDoc(key="perfection", budget=50)],
        ideas=[IdeaDoc(id="A", value=1, cost=1)],
        solver=SolverDoc(time_limit_seconds=60),
    )
    half = scaled(document, 0.5, 7)
    assert [p.budget for p in half.phases] == [50, 25] and total_budget(half) == 75
    assert half.solver.time_limit_seconds == 7 and half.ideas == document.ideas


def test_the_chart_is_svg_with_one_marker_per_solved_point_and_bounds_where_unproven():
    points = [
        FrontierPoint(factor=0.5, total_budget=50, status="optimal", objective=10, best_bound=10, gap=0.0),
        FrontierPoint(factor=1.0, total_budget=100, status="feasible", objective=18, best_bound=20, gap=0.1),
        FrontierPoint(factor=1.5, total_budget=150, status="infeasible", objective=None, best_bound=None, gap=None),
    ]
    root = ET.fromstring(frontier_svg(points, title="Q3 <frontier>", currency="EUR"))
    assert root.tag == f"{SVG}svg"
    circles = root.findall(f"{SVG}circle")
    assert len(circles) == 2
    assert circles[0].get("fill") != "white" and circles[1].get("fill") == "white"
    assert len(root.find(f"{SVG}polyline").get("points").split()) == 2
    dashed = [line for line in root.findall(f"{SVG}line") if line.get("stroke-dasharray")]
    assert len(dashed) == 1
    assert root.find(f"{SVG}title").text == "Q3 <frontier>"


def test_ticks_fall_on_round_numbers_and_cover_the_data():
    from services.roadmap.scenarios.frontier import nice_ticks, tick_label

    ticks = nice_ticks(337_500, 1_012_500)
    assert ticks == [200_000, 400_000, 600_000, 800_000, 1_000_000, 1_200_000]
    assert nice_ticks(4.66, 17.14) == [2.5, 5, 7.5, 10, 12.5, 15, 17.5]
    assert [tick_label(t) for t in (1_200_000, 250_000, 17.5)] == ["1.2M", "250k", "17.5"]


def test_the_chart_marks_the_current_budget_starts_at_the_data_and_lists_what_each_step_adds():
    points = [
        FrontierPoint(factor=0.5, total_budget=500_000, status="optimal", objective=12.0, best_bound=12.0, gap=0.0,
                      added=["CJ-1", "CJ-2"]),
        FrontierPoint(factor=1.0, total_budget=1_000_000, status="feasible", objective=16.5, best_bound=17.0, gap=0.03,
                      added=["CJ-7"], removed=["CJ-2"]),
    ]  # fmt: skip
    svg = frontier_svg(points, title="Q3", currency="EUR", current_budget=1_000_000)
    root = ET.fromstring(svg)
    texts = [text.text or "" for text in root.iter(f"{SVG}text")]
    assert "current budget 1M" in texts
    y_labels = [t for t in texts if t and t.replace(".", "").isdigit()]
    assert y_labels and min(float(t) for t in y_labels) >= 10  # the value axis starts near the data, not at 0
    assert "1M (EUR): value 16.5, adds CJ-7 (instead of CJ-2)" in texts
    assert "500k (EUR): value 12, adds CJ-1, CJ-2" in texts
    assert any("could be up to 17" in (title.text or "") for title in root.iter(f"{SVG}title"))
