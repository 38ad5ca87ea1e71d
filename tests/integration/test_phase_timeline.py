"""Phases in time: a scenario's phases may carry start and end dates, and plans show the timeline."""

from __future__ import annotations

import uuid

import pytest
from roadmap_fixtures import EDITOR, PHASES, scenario_body, scored_portfolio
from test_role_matrix import finished_run

pytestmark = pytest.mark.integration

DATES = {
    "discovery": ("2027-01-01", "2027-03-31"),
    "improve": ("2027-04-01", "2027-09-30"),
    "perfection": ("2027-10-01", "2028-06-30"),
    "personalization": ("2028-07-01", "2029-06-30"),
}


def dated_phases() -> list[dict]:
    return [{**phase, "start": DATES[phase["key"]][0], "end": DATES[phase["key"]][1]} for phase in PHASES]


async def test_a_scenario_keeps_its_phase_dates_and_a_plan_shows_the_timeline(client, token_for, conn):
    editor = token_for(EDITOR)
    scored = await scored_portfolio(client, token_for)
    made = await client.post("/roadmap/scenarios", json=scenario_body(scored, phases=dated_phases()), headers=editor)
    assert made.status_code == 201, made.text
    scenario = made.json()
    assert [(p["key"], p["start"], p["end"]) for p in scenario["phases"]] == [(k, *DATES[k]) for k in DATES]

    # A patch changes what it names: one phase's end, another's dates taken away; budgets stay.
    patch = {
        "phases": [{"key": "improve", "end": "2027-10-15"}, {"key": "personalization", "start": None, "end": None}]
    }
    patched = await client.patch(f"/roadmap/scenarios/{scenario['id']}", json=patch, headers=editor)
    assert patched.status_code == 200, patched.text
    phases = {p["key"]: p for p in patched.json()["phases"]}
    assert (phases["improve"]["start"], phases["improve"]["end"], phases["improve"]["budget"]) == (
        "2027-04-01",
        "2027-10-15",
        50000,
    )
    assert "start" not in phases["personalization"] and phases["personalization"]["budget"] == 40000

    run = await finished_run(conn, uuid.UUID(scenario["id"]))
    plan = await client.post(f"/roadmap/runs/{run}/plans", json={"name": "Timed"}, headers=editor)
    assert plan.status_code == 201, plan.text
    timeline = [(p["key"], p.get("start"), p.get("end")) for p in plan.json()["phases"]]
    assert timeline == [
        ("discovery", "2027-01-01", "2027-03-31"), ("improve", "2027-04-01", "2027-10-15"),
        ("perfection", "2027-10-01", "2028-06-30"), ("personalization", None, None),
    ]  # fmt: skip


async def test_phase_dates_are_checked_naming_the_field(client, token_for):
    editor = token_for(EDITOR)
    scored = await scored_portfolio(client, token_for)
    backwards = dated_phases()
    backwards[1] = {**backwards[1], "end": "2027-04-01"}  # ends the day it starts
    refused = await client.post("/roadmap/scenarios", json=scenario_body(scored, phases=backwards), headers=editor)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "phases[1].end", refused.text
    assert "after start" in refused.json()["errors"][0]["message"]

    not_a_date = dated_phases()
    not_a_date[0] = {**not_a_date[0], "start": "next spring"}
    refused = await client.post("/roadmap/scenarios", json=scenario_body(scored, phases=not_a_date), headers=editor)
    assert refused.status_code in (400, 422) and "phases" in refused.text, refused.text

    made = (
        await client.post("/roadmap/scenarios", json=scenario_body(scored, phases=dated_phases()), headers=editor)
    ).json()
    patch = {"phases": [{"key": "discovery", "end": "2026-12-31"}]}
    refused = await client.patch(f"/roadmap/scenarios/{made['id']}", json=patch, headers=editor)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "phases[0].end", refused.text
    removing = {"phases": [{"key": "discovery", "remove": True, "start": "2027-01-01"}]}
    assert (await client.patch(f"/roadmap/scenarios/{made['id']}", json=removing, headers=editor)).status_code == 422
