"""Plans negotiated phase by phase over HTTP: changes asked, revisions, lower budgets, re-plans
from the approved budgets, and withdrawal."""

from __future__ import annotations

import uuid

import pytest
from roadmap_fixtures import EDITOR, LEADER, scenario_body, scored_portfolio

pytestmark = pytest.mark.integration

PHASE_BUDGETS = {"discovery": 20_000.0, "improve": 50_000.0, "perfection": 60_000.0, "personalization": 40_000.0}


async def run_with(conn, scenario_id, assignments: dict[str, str], *, budgets=PHASE_BUDGETS, spend=None) -> uuid.UUID:
    """A succeeded optimisation of the scenario whose result assigns `assignments` (idea -> phase)."""
    spend = spend or {}
    result = {
        "name": "plan", "status": "optimal", "objective": 1.0, "bestBound": 1.0, "gap": 0.0,
        "assignments": [{"idea": idea, "phase": phase} for idea, phase in assignments.items()],
        "phases": [{"key": k, "budget": b, "spend": spend.get(k, 0.0), "capacity": []} for k, b in budgets.items()],
        "leftOut": [], "diagnosis": [], "solver": {"name": "highs", "version": "1"},
    }  # fmt: skip
    document = await conn.fetchval("SELECT document FROM roadmap.scenarios WHERE id = $1", scenario_id)
    return await conn.fetchval(
        """
        INSERT INTO roadmap.runs (scenario_id, status, document, input_fingerprint, result, created_by, finished_at)
        VALUES ($1, 'succeeded', $2, 'sha256:x', $3, 'tester@example.com', now()) RETURNING id
        """,
        scenario_id,
        document,
        result,
    )


@pytest.fixture
async def negotiation(client, token_for, conn):
    """A submitted plan: A1 in improve, C in perfection, nothing in discovery or personalization."""
    scored = await scored_portfolio(client, token_for)
    scenario = (await client.post("/roadmap/scenarios", json=scenario_body(scored), headers=token_for(EDITOR))).json()
    scenario_id = uuid.UUID(scenario["id"])
    run = await run_with(
        conn, scenario_id, {"A1": "improve", "C": "perfection"}, spend={"improve": 15_000, "perfection": 45_000}
    )
    plan = (await client.post(f"/roadmap/runs/{run}/plans", json={"name": "2027"}, headers=token_for(EDITOR))).json()
    submitted = await client.post(f"/roadmap/plans/{plan['id']}/submit", headers=token_for(EDITOR))
    assert submitted.status_code == 200, submitted.text
    return {"scored": scored, "scenario": scenario_id, "plan": plan["id"]}


async def decide(client, token_for, plan_id, phase, body, subject=LEADER):
    return await client.post(
        f"/roadmap/plans/{plan_id}/phases/{phase}/decision", json=body, headers=token_for("leader", subject=subject)
    )


async def test_a_revision_keeps_untouched_approvals_and_asks_again_for_the_rest(client, token_for, conn, negotiation):
    plan_id = negotiation["plan"]
    for phase in ("discovery", "improve", "personalization"):
        assert (
            await decide(client, token_for, plan_id, phase, {"decision": "approve", "comment": "ok"})
        ).status_code == 200
    asked = await decide(client, token_for, plan_id, "perfection", {"decision": "reject", "comment": "C is too dear"})
    assert asked.json()["status"] == "submitted"

    # The programme manager answers: perfection without C, and A2 added to improve.
    revised_run = await run_with(
        conn, negotiation["scenario"], {"A1": "improve", "A2": "improve"}, spend={"improve": 45_000}
    )
    revised = await client.post(
        f"/roadmap/plans/{plan_id}/revisions", json={"runId": str(revised_run)}, headers=token_for(EDITOR)
    )
    assert revised.status_code == 200, revised.text
    body = revised.json()
    assert body["status"] == "submitted" and body["revision"] == 2 and body["runId"] == str(revised_run)
    assert body["revisedBy"] == ["tester@example.com"]
    decided = {phase["key"]: (phase["decision"] or {}).get("decision") for phase in body["phases"]}
    # discovery and personalization hold the same (no) ideas and budget: their approvals stand.
    assert decided == {"discovery": "approved", "improve": None, "perfection": None, "personalization": "approved"}
    trail = (await client.get(f"/roadmap/plans/{plan_id}/audit", headers=token_for("viewer"))).json()
    assert trail[-1]["action"] == "revised" and trail[-1]["detail"]["askedAgain"] == ["improve", "perfection"]
    assert trail[-1]["actorRole"] == "programme_manager"

    for phase in ("improve", "perfection"):
        last = await decide(client, token_for, plan_id, phase, {"decision": "approve", "comment": "fine now"})
    assert last.json()["status"] == "approved"


async def test_a_revision_needs_a_finished_run_of_the_same_scenario(client, token_for, conn, negotiation):
    url = f"/roadmap/plans/{negotiation['plan']}/revisions"
    other = (await client.post("/roadmap/scenarios", json=scenario_body(negotiation["scored"], name="Other"),
                               headers=token_for(EDITOR))).json()  # fmt: skip
    elsewhere = await run_with(conn, uuid.UUID(other["id"]), {"A1": "improve"})
    wrong = await client.post(url, json={"runId": str(elsewhere)}, headers=token_for(EDITOR))
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "runId"
    queued = (
        await client.post(f"/roadmap/scenarios/{negotiation['scenario']}/runs", json={}, headers=token_for(EDITOR))
    ).json()
    unfinished = await client.post(url, json={"runId": queued["id"]}, headers=token_for(EDITOR))
    assert unfinished.status_code == 409


async def test_whoever_revised_a_plan_never_decides_it(client, token_for, member_of, conn, negotiation):
    portfolio = negotiation["scored"]["portfolioId"]
    reviser = await member_of(portfolio, "programme_manager", "leader", subject="reviser@example.com")
    run = await run_with(conn, negotiation["scenario"], {"A1": "improve"})
    revised = await client.post(
        f"/roadmap/plans/{negotiation['plan']}/revisions", json={"runId": str(run)}, headers=reviser
    )
    assert revised.status_code == 200, revised.text
    own = await client.post(
        f"/roadmap/plans/{negotiation['plan']}/phases/improve/decision",
        json={"decision": "approve", "comment": "mine"},
        headers=reviser,
    )
    assert own.status_code == 403 and "revised" in own.json()["detail"]


async def test_a_phase_approved_for_less_stands_if_the_plan_fits_and_asks_for_changes_if_not(
    client, token_for, negotiation
):
    plan_id = negotiation["plan"]
    fits = await decide(
        client, token_for, plan_id, "improve", {"decision": "approve", "comment": "less", "budget": 20_000}
    )
    assert fits.status_code == 200, fits.text
    improve = fits.json()["phases"][1]["decision"]
    assert improve["decision"] == "approved" and improve["approvedBudget"] == 20_000
    too_little = await decide(
        client, token_for, plan_id, "perfection", {"decision": "approve", "comment": "less", "budget": 40_000}
    )
    assert too_little.json()["phases"][2]["decision"]["decision"] == "changes_requested"
    assert too_little.json()["phases"][2]["decision"]["approvedBudget"] == 40_000
    more = await decide(
        client, token_for, plan_id, "discovery", {"decision": "approve", "comment": "x", "budget": 20_001}
    )
    assert more.status_code == 422 and more.json()["errors"][0]["field"] == "budget"


async def test_a_replan_starts_from_the_approved_budgets_unless_told_otherwise(client, token_for, conn, negotiation):
    plan_id = negotiation["plan"]
    for phase, budget in (("discovery", None), ("improve", 20_000), ("perfection", None), ("personalization", 30_000)):
        body = {"decision": "approve", "comment": "ok"} | ({"budget": budget} if budget else {})
        approved = await decide(client, token_for, plan_id, phase, body)
        assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    # The scenario's budgets differ from what was approved: the re-plan must not take them.
    await conn.execute(
        "UPDATE roadmap.scenarios SET document = jsonb_set(document, '{phases,1,budget}', '99999') WHERE id = $1",
        negotiation["scenario"],
    )
    replan = await client.post(
        f"/roadmap/plans/{plan_id}/replan", json={"name": "2028", "movePenalty": 1}, headers=token_for(EDITOR)
    )
    assert replan.status_code == 201, replan.text
    assert {p["key"]: p["budget"] for p in replan.json()["phases"]} == {
        "discovery": 20_000, "improve": 20_000, "perfection": 60_000, "personalization": 30_000
    }  # fmt: skip
    assert replan.json()["source"]["budgets"]["from"] == "the approved plan"
    given = await client.post(
        f"/roadmap/plans/{plan_id}/replan",
        json={"name": "2028b", "movePenalty": 1, "phases": [{"key": "improve", "budget": 35_000}]},
        headers=token_for(EDITOR),
    )
    assert {p["key"]: p["budget"] for p in given.json()["phases"]}["improve"] == 35_000
    assert given.json()["source"]["budgets"]["given"] == ["improve"]


async def test_a_withdrawn_plan_moves_no_further(client, token_for, negotiation):
    plan_id = negotiation["plan"]
    withdrawn = await client.post(f"/roadmap/plans/{plan_id}/withdraw", headers=token_for(EDITOR))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    late = await decide(client, token_for, plan_id, "improve", {"decision": "approve", "comment": "late"})
    assert late.status_code == 409
    assert (await client.post(f"/roadmap/plans/{plan_id}/withdraw", headers=token_for(EDITOR))).status_code == 409


async def test_a_replan_run_shows_its_value_penalty_and_bound_on_one_footing(client, token_for, conn, negotiation):
    from services.roadmap.scenarios import repository

    run_id = await run_with(conn, negotiation["scenario"], {"A1": "improve"})
    # What a re-plan's result says when moving C off its approved phase cost 10 (value 16.62).
    await conn.execute(
        """UPDATE roadmap.runs SET status = 'running', attempts = 1, finished_at = NULL,
           progress = '{"stage": "solving", "objective": 16.0}'::jsonb WHERE id = $1""",
        run_id,
    )
    result = {
        "name": "replan", "status": "optimal", "objective": 16.62, "bestBound": 6.62, "gap": 0.0,
        "objectiveWithPenalty": 6.62, "baselinePenalty": 10.0, "assignments": [], "phases": [],
        "leftOut": [], "diagnosis": [], "solver": {"name": "highs", "version": "1", "seconds": 0.5},
    }  # fmt: skip
    assert await repository.finish_run(
        conn, run_id, 1, status="succeeded", result=result, error=None, solver_name="highs", solver_version="1"
    )
    run = (await client.get(f"/roadmap/runs/{run_id}", headers=token_for("viewer"))).json()
    summary, progress = run["summary"], run["progress"]
    assert summary["objectiveWithPenalty"] == summary["bestBound"] == 6.62 and summary["penalty"] == 10.0
    assert summary["objective"] - summary["penalty"] == pytest.approx(summary["objectiveWithPenalty"])
    assert progress["objectiveWithPenalty"] == progress["bestBound"] == 6.62 and progress["penalty"] == 10.0
