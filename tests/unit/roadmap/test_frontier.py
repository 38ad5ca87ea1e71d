"""The frontier sweep's budgets, scaled scenarios and its SVG chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import msgspec
import pytest

from services.roadmap.frontier import FrontierPoint, Sweep, frontier_svg, scaled, total_budget
from services.roadmap.optimiser.scenario import IdeaDoc, PhaseDoc, ScenarioDoc, SolverDoc

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"


def test_a_sweep_spreads_its_factors_evenly_between_the_ends():
    assert Sweep(from_factor=0.5, to_factor=1.5, points=5).factors() == [0.5, 0.75, 1.0, 1.25, 1.5]


@pytest.mark.parametrize("bad", [{"fromFactor": 2, "toFactor": 1}, {"points": 1}, {"points": 500}, {"timeLimitSecondsPerPoint": 0}])
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
