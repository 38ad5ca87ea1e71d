"""A living backlog: estimates with a date and an author, an idea's history, stale estimates under
a review cadence, the periodic review check, and reviews of the journey map.

The app's clock is the test's (`clock`, tests/conftest.py): "40 days later" is a step of the clock.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from roadmap_fixtures import EDITOR, scenario_body

from services.scoring import staleness

pytestmark = pytest.mark.integration

PM = "pm@example.com"


def idea(ref: str, **estimates) -> dict:
    return {"ref": ref, "title": f"Idea {ref}", "journey": {"persona": "Busy parent", "journeyStage": "onboarding"},
            "estimates": {"reach": 100, "customerImpact": 5, "confidence": 0.5, "cost": 1000, "effort": {"web": 2}, **estimates},
            "phases": ["improve"]}  # fmt: skip


async def portfolio_with_ideas(client, token_for, *refs: str, review_every_days: int = 30) -> str:
    editor = token_for(EDITOR, subject=PM)
    body = {"name": "Living", "reviewEveryDays": review_every_days}
    made = await client.post("/scoring/portfolios", json=body, headers=editor)
    assert made.status_code == 201, made.text
    assert made.json()["reviewEveryDays"] == review_every_days
    base = f"/scoring/portfolios/{made.json()['id']}"
    created = await client.post(f"{base}/ideas/bulk", json={"ideas": [idea(ref) for ref in refs]}, headers=editor)
    assert created.status_code == 201, created.text
    return base


async def test_changes_keep_a_history_and_only_a_new_estimate_gets_a_new_date(client, token_for, member_of, clock):
    base = await portfolio_with_ideas(client, token_for, "A")
    created_at = clock()
    other_pm = await member_of(base.split("/")[-1], "programme_manager", subject="ann@example.com")
    viewer = await member_of(base.split("/")[-1], "viewer")

    clock.advance(days=3)
    retitled = await client.patch(f"{base}/ideas/A", json={"title": "Explain fees"}, headers=other_pm)
    assert retitled.status_code == 200, retitled.text
    assert (retitled.json()["estimatedAt"], retitled.json()["estimatedBy"]) == (iso(created_at), PM)

    clock.advance(days=2)
    new_estimate = clock()
    body = {"estimates": {**idea("A")["estimates"], "cost": 2500, "effort": {"web": 2, "mobile": 4}}}
    changed = await client.patch(f"{base}/ideas/A", json=body, headers=other_pm)
    assert (changed.json()["estimatedAt"], changed.json()["estimatedBy"]) == (iso(new_estimate), "ann@example.com")
    unchanged = await client.patch(f"{base}/ideas/A", json=body, headers=other_pm)
    assert unchanged.status_code == 200, unchanged.text

    history = await client.get(f"{base}/ideas/A/history", headers=viewer)
    assert history.status_code == 200, history.text
    entries = history.json()
    assert [(e["action"], e["by"], e["at"]) for e in entries] == [
        ("created", PM, iso(created_at)),
        ("updated", "ann@example.com", iso(created_at + timedelta(days=3))),
        ("updated", "ann@example.com", iso(new_estimate)),
    ]  # the third PATCH changed nothing, so it left no entry
    assert {"field": "estimates.cost", "before": None, "after": 1000.0} in entries[0]["changes"]
    assert entries[1]["changes"] == [{"field": "title", "before": "Idea A", "after": "Explain fees"}]
    assert entries[2]["changes"] == [
        {"field": "estimates.cost", "before": 1000.0, "after": 2500.0},
        {"field": "estimates.effort.mobile", "before": None, "after": 4.0},
    ]
    assert (await client.get(f"{base}/ideas/NOPE/history", headers=viewer)).status_code == 404
    outsider = token_for("viewer", subject="outsider@example.com")
    assert (await client.get(f"{base}/ideas/A/history", headers=outsider)).status_code == 404


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_estimates_older_than_the_cadence_are_stale_in_lists_rankings_and_scenarios(client, token_for, clock):
    base = await portfolio_with_ideas(client, token_for, "A", "B", "C", review_every_days=30)
    editor = token_for(EDITOR, subject=PM)
    portfolio_id = base.split("/")[-1]
    model = (
        await client.post(f"{base}/models", json={"name": "RICE", "definition": {"kind": "rice"}}, headers=editor)
    ).json()
    assert (await client.get(f"{base}/ideas", params={"stale": "true"}, headers=editor)).json()["total"] == 0

    clock.advance(days=20)
    await client.patch(f"{base}/ideas/B", json={"estimates": {**idea("B")["estimates"], "reach": 300}}, headers=editor)
    clock.advance(days=10, seconds=1)  # A and C: 30 days and a second old; B: 10 days

    stale = (await client.get(f"{base}/ideas", params={"stale": "true"}, headers=editor)).json()
    assert [(item["ref"], item["stale"]) for item in stale["items"]] == [("A", True), ("C", True)]
    fresh = (await client.get(f"{base}/ideas", params={"stale": "false"}, headers=editor)).json()
    assert [(item["ref"], item["stale"]) for item in fresh["items"]] == [("B", False)]
    assert (await client.get(f"{base}/ideas/C", headers=editor)).json()["stale"] is True
    ranking = (await client.get(f"{base}/models/{model['id']}/ranking", headers=editor)).json()
    assert {row["ref"]: row["stale"] for row in ranking["items"]} == {"A": True, "B": False, "C": True}

    scored = {"portfolioId": portfolio_id, "modelId": model["id"]}
    scenario = await client.post("/roadmap/scenarios", json=scenario_body(scored), headers=editor)
    assert scenario.status_code == 201, scenario.text
    assert scenario.json()["staleEstimates"] == {
        "ideas": ["A", "C"], "planned": 3, "summary": "2 of the 3 planned ideas have stale estimates",
    }  # fmt: skip

    bad = await client.patch(base, json={"reviewEveryDays": 0}, headers=editor)
    assert bad.status_code in (400, 422) and "reviewEveryDays" in bad.text, bad.text
    longer = await client.patch(base, json={"reviewEveryDays": 365}, headers=editor)
    assert longer.json()["reviewEveryDays"] == 365
    assert (await client.get(f"{base}/ideas", params={"stale": "true"}, headers=editor)).json()["total"] == 0


async def test_the_review_check_records_when_ideas_became_stale_once_and_tells_subscribers(
    client, token_for, clock, conn
):
    base = await portfolio_with_ideas(client, token_for, "A", "B", review_every_days=30)
    portfolio_id = base.split("/")[-1]
    editor = token_for(EDITOR, subject=PM)
    estimated = clock()
    await conn.execute(
        "INSERT INTO events.subscriptions (portfolio_id, url, event_types, secret_ref, created_by) "
        "VALUES ($1, 'https://hooks.example.com/x', '{ideas.stale}', 'env:ROADMAP_SECRET_X', 'pm')",
        UUID(portfolio_id),
    )
    clock.advance(days=29)
    assert not [e for e in await staleness.mark_stale(conn, now=clock()) if str(e.portfolio_id) == portfolio_id]

    clock.advance(days=5)
    await client.patch(f"{base}/ideas/B", json={"estimates": {**idea("B")["estimates"], "reach": 300}}, headers=editor)
    found = [e for e in await staleness.mark_stale(conn, now=clock()) if str(e.portfolio_id) == portfolio_id]
    assert [(e.refs, e.review_every_days) for e in found] == [(["A"], 30)]
    again = [
        e for e in await staleness.mark_stale(conn, now=clock.advance(hours=1)) if str(e.portfolio_id) == portfolio_id
    ]
    assert again == []

    a = (await client.get(f"{base}/ideas/A", headers=editor)).json()
    assert (a["stale"], a["staleSince"]) == (True, iso(estimated + timedelta(days=30)))
    events = await conn.fetch(
        "SELECT o.envelope, d.status FROM events.outbox o JOIN events.deliveries d ON d.event_id = o.id "
        "WHERE o.portfolio_id = $1 AND o.event_type = 'ideas.stale'",
        UUID(portfolio_id),
    )
    assert [(e["envelope"]["data"], e["status"]) for e in events] == [
        ({"ideas": ["A"], "count": 1, "reviewEveryDays": 30}, "pending")
    ]

    # A new estimate ends it; the check then finds A again only once it is stale again.
    await client.patch(f"{base}/ideas/A", json={"estimates": {**idea("A")["estimates"], "reach": 900}}, headers=editor)
    a = (await client.get(f"{base}/ideas/A", headers=editor)).json()
    assert (a["stale"], a["staleSince"]) == (False, None)


async def test_the_journey_map_shows_when_personas_stages_and_touchpoints_were_reviewed(
    client, token_for, member_of, clock
):
    base = await portfolio_with_ideas(client, token_for, "A", review_every_days=30)
    editor = token_for(EDITOR, subject=PM)
    reviewed = await client.post(
        f"{base}/journey/reviews", json={"facet": "persona", "value": "Busy parent"}, headers=editor
    )
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json() == {"facet": "persona", "value": "Busy parent", "reviewedAt": iso(clock()), "reviewedBy": PM}

    journey = (await client.get(f"{base}/journey", headers=editor)).json()
    assert journey["personas"] == [
        {"value": "Busy parent", "ideas": 1, "reviewedAt": iso(clock()), "reviewedBy": PM, "reviewDue": False}
    ]
    assert journey["journeyStages"] == [{"value": "onboarding", "ideas": 1, "reviewDue": True}]
    clock.advance(days=31)
    journey = (await client.get(f"{base}/journey", headers=editor)).json()
    assert journey["personas"][0]["reviewDue"] is True

    unknown = await client.post(f"{base}/journey/reviews", json={"facet": "touchpoint", "value": "Fax"}, headers=editor)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "value", unknown.text
    bad_facet = await client.post(f"{base}/journey/reviews", json={"facet": "channel", "value": "x"}, headers=editor)
    assert bad_facet.status_code in (400, 422), bad_facet.text
    viewer = await member_of(base.split("/")[-1], "viewer")
    refused = await client.post(
        f"{base}/journey/reviews", json={"facet": "persona", "value": "Busy parent"}, headers=viewer
    )
    assert refused.status_code == 403
