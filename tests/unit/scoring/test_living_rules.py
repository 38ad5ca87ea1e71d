"""The pure rules of a living backlog: what a change changed, staleness, and calibration figures."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import msgspec

from services.roadmap.optimiser.scenario import IdeaDoc
from services.roadmap.scenarios.calibrate import CalibrationReport, calibrated, factors_of
from services.scoring.calibration import Outcome, calibrate, lead_team, ratios
from services.scoring.domain import Estimates, IdeaDraft, JourneyContext
from services.scoring.review_rules import Change, changes, estimates_changed, is_stale, stale_cutoff


def draft(**estimates) -> IdeaDraft:
    return IdeaDraft(ref="A", title="Idea", journey=JourneyContext(persona="Retiree"), estimates=Estimates(**estimates))


def test_a_change_is_listed_field_by_field_with_team_keys_as_written():
    before = draft(cost=100, effort={"web_team": 2})
    after = msgspec_replace(before, title="Better", estimates=Estimates(cost=100, effort={"web_team": 3, "data": 1}))
    assert changes(before, after) == [
        Change(field="estimates.effort.data", before=None, after=1),
        Change(field="estimates.effort.web_team", before=2, after=3),
        Change(field="title", before="Idea", after="Better"),
    ]
    assert estimates_changed(changes(before, after))
    assert not estimates_changed(changes(before, msgspec_replace(before, title="Other")))
    assert changes(before, before) == []
    created = changes(None, before)
    assert Change(field="journey.persona", after="Retiree") in created and all(c.field != "ref" for c in created)


def msgspec_replace(value, **changes_):
    return msgspec.structs.replace(value, **changes_)


def test_an_estimate_is_stale_once_older_than_the_cadence():
    now = datetime(2027, 3, 31, 12, tzinfo=UTC)
    cutoff = stale_cutoff(now, 30)
    assert cutoff == datetime(2027, 3, 1, 12, tzinfo=UTC)
    assert is_stale(datetime(2027, 3, 1, 11, 59, tzinfo=UTC), cutoff)
    assert not is_stale(cutoff, cutoff)


def test_ratios_are_median_interquartile_range_and_count():
    assert ratios([]) is None
    assert ratios([1.2]).spread == 0.0
    four = ratios([1.0, 2.0, 3.0, 4.0])  # inclusive quartiles 1.75 and 3.25
    assert (four.median, four.spread, four.count) == (2.5, 1.5, 4)


def test_the_lead_team_has_the_most_effort_ties_to_the_first_key():
    assert lead_team({"web": 5, "backend": 5, "cx": 1}) == "backend"
    assert lead_team({}) is None


def test_an_estimate_of_zero_or_none_gives_no_ratio_and_nothing_is_guessed():
    report = calibrate([
        Outcome(ref="A", department=None, estimated_cost=0, estimated_effort={"web": 0}, actual_cost=10, actual_effort={"web": 3}),
        Outcome(ref="B", department="X", estimated_cost=None, estimated_effort={"web": 2}, actual_cost=None, actual_effort={},
                delivered_via="jira"),
    ])  # fmt: skip
    assert report.ideas == 2 and report.teams == [] and report.kpi_targets is None
    assert (report.delivered_via.jira, report.delivered_via.manual) == (1, 1)
    assert [(d.key, d.cost, d.effort) for d in report.departments] == [("X", None, None)]


def test_calibration_scales_effort_per_team_and_cost_by_the_lead_team():
    report = msgspec.convert({"teams": [
        {"key": "web", "cost": {"median": 1.5, "count": 2}, "effort": {"median": 1.2, "count": 2}},
        {"key": "data", "effort": {"median": 0.5, "count": 1}},
    ]}, CalibrationReport)  # fmt: skip
    ideas = [IdeaDoc(id="A", value=1, cost=100, effort={"web": 10, "data": 4}),
             IdeaDoc(id="B", value=1, cost=100, effort={"data": 4}),
             IdeaDoc(id="C", value=1, cost=100, effort={"ops": 4})]  # fmt: skip
    scaled, applied = calibrated(ideas, factors_of(report))
    assert [(i.id, i.cost, i.effort) for i in scaled] == [
        ("A", 150.0, {"web": 12.0, "data": 2.0}), ("B", 100.0, {"data": 2.0}), ("C", 100.0, {"ops": 4}),
    ]  # fmt: skip
    assert applied["factors"] == {"cost": {"web": 1.5}, "effort": {"web": 1.2, "data": 0.5}}
    assert [entry["idea"] for entry in applied["ideas"]] == ["A", "B"]


def test_the_rules_are_pure():
    code = (
        "import sys, services.scoring.review_rules, services.scoring.calibration, services.roadmap.scenarios.calibrate; "
        "print(sorted(m for m in ('litestar','asyncpg','httpx') if m in sys.modules))"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )
