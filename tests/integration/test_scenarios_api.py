"""Scenarios over HTTP: frozen scores from the scoring service, edits, clones, export and import."""

from __future__ import annotations

import uuid

import pytest
from roadmap_fixtures import EDITOR, scenario_body, scored_portfolio

pytestmark = pytest.mark.integration


@pytest.fixture
async def scored(client, token_for):
    return await scored_portfolio(client, token_for)


async def create(client, token_for, body):
    response = await client.post("/roadmap/scenarios", json=body, headers=token_for(EDITOR))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_scenario_freezes_the_scores_and_says_what_it_could_not_plan(client, token_for, scored):
    scenario = await create(client, token_for, scenario_body(scored))
    assert scenario["ideaCount"] == 3
    assert {item["idea"]: item["reason"] for item in scenario["skipped"]} == {
        "B": "no cost estimate",
        "E": "not scored under RICE v1: missing confidence",
    }
    assert scenario["source"]["modelVersion"] == 1 and scenario["fingerprint"].startswith("sha256:")
    document = (await client.get(f"/roadmap/scenarios/{scenario['id']}/document", headers=token_for("viewer"))).json()
    a1 = next(idea for idea in document["ideas"] if idea["id"] == "A1")
    assert a1["value"] == pytest.approx(1000 * 5 * 0.8 / 5) and a1["cost"] == 15_000
    assert a1["attributes"]["persona"] == "Busy parent" and a1["effort"] == {"web": 5.0}

    # Changing the backlog afterwards does not change the scenario.
    await client.patch(
        f"{scored['base']}/ideas/A1",
        json={"estimates": {"reach": 9, "customerImpact": 1, "confidence": 0.1, "effort": {"web": 5}, "cost": 1}},
        headers=token_for(EDITOR),
    )
    again = (await client.get(f"/roadmap/scenarios/{scenario['id']}/document", headers=token_for("viewer"))).json()
    assert again == document


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"constraints": [{"kind": "mandatory", "idea": "ZZ"}]}, "constraints[0].idea"),
        ({"constraints": [{"kind": "pin", "idea": "A1", "phase": "later"}]}, "constraints[0].phase"),
        ({"phases": [{"key": "improve", "budget": -5}]}, "phases"),
        ({"phases": [{"key": "someday", "budget": 5}]}, "phases[0].key"),
        ({"phases": [{"key": "improve", "budget": 5}, {"key": "discovery", "budget": 5}]}, "phases"),
        ({"solver": {"timeLimitSeconds": 3600}}, "solver.timeLimitSeconds"),
        ({"teams": [{"key": "web", "capacity": {"nowhen": 3}}]}, "teams[0].capacity"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_a_bad_scenario_is_a_422_naming_the_field_and_nothing_is_written(
    client, token_for, scored, conn, overrides, field
):
    response = await client.post(
        "/roadmap/scenarios", json=scenario_body(scored, **overrides), headers=token_for(EDITOR)
    )
    assert response.status_code in (400, 422), response.text
    assert any(error["field"].startswith(field) for error in response.json()["errors"]), response.json()
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM roadmap.scenarios WHERE portfolio_id = $1", uuid.UUID(scored["portfolioId"])
        )
        == 0
    )


async def test_an_unknown_model_is_a_404(client, token_for, scored):
    body = scenario_body(scored, modelId="00000000-0000-0000-0000-000000000000")
    response = await client.post("/roadmap/scenarios", json=body, headers=token_for(EDITOR))
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["viewer", "leader", "delivery"])
async def test_only_programme_managers_and_admins_make_scenarios(client, member_of, scored, role, conn):
    headers = await member_of(scored["portfolioId"], role)
    response = await client.post("/roadmap/scenarios", json=scenario_body(scored), headers=headers)
    assert response.status_code == 403
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM roadmap.scenarios WHERE portfolio_id = $1", uuid.UUID(scored["portfolioId"])
        )
        == 0
    )


async def test_editing_settings_makes_a_new_revision_and_fingerprint(client, token_for, scored):
    scenario = await create(client, token_for, scenario_body(scored))
    url = f"/roadmap/scenarios/{scenario['id']}"
    more = [
        {**phase, "budget": phase["budget"] * 1.2} if phase["key"] == "improve" else phase
        for phase in scenario["phases"]
    ]
    response = await client.patch(url, json={"phases": more, "name": "Improve +20%"}, headers=token_for(EDITOR))
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["revision"] == 2 and changed["name"] == "Improve +20%"
    assert changed["fingerprint"] != scenario["fingerprint"]
    assert changed["ideaCount"] == scenario["ideaCount"]
    bad = await client.patch(
        url, json={"constraints": [{"kind": "exclude", "idea": "nope"}]}, headers=token_for(EDITOR)
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "constraints[0].idea"


async def test_clone_then_export_and_import_round_trip(client, token_for, scored):
    scenario = await create(client, token_for, scenario_body(scored, constraints=[{"kind": "mandatory", "idea": "C"}]))
    clone = await client.post(
        f"/roadmap/scenarios/{scenario['id']}/clone", json={"name": "Copy"}, headers=token_for(EDITOR)
    )
    assert clone.status_code == 201 and clone.json()["name"] == "Copy"
    assert clone.json()["source"]["clonedFrom"] == scenario["id"]
    document = (await client.get(f"/roadmap/scenarios/{scenario['id']}/document", headers=token_for("viewer"))).json()
    imported = await client.post(
        "/roadmap/scenarios/import",
        json={"portfolioId": scored["portfolioId"], "document": document},
        headers=token_for(EDITOR),
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["fingerprint"] == scenario["fingerprint"]


async def test_importing_a_bad_document_names_the_field(client, token_for, scored, conn):
    document = {
        "name": "x",
        "phases": [{"key": "improve", "budget": 10}],
        "ideas": [{"id": "I", "value": 1, "cost": "lots"}],
    }
    response = await client.post(
        "/roadmap/scenarios/import",
        json={"portfolioId": scored["portfolioId"], "document": document},
        headers=token_for(EDITOR),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "document.ideas[0].cost"
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM roadmap.scenarios WHERE portfolio_id = $1", uuid.UUID(scored["portfolioId"])
        )
        == 0
    )


async def test_starting_a_run_records_it_and_enqueues_its_job_together(client, token_for, scored, conn):
    scenario = await create(client, token_for, scenario_body(scored))
    response = await client.post(f"/roadmap/scenarios/{scenario['id']}/runs", json={}, headers=token_for(EDITOR))
    assert response.status_code == 202, response.text
    run = response.json()
    assert response.headers["location"] == f"/roadmap/runs/{run['id']}"
    assert run["status"] == "queued" and run["inputFingerprint"] == scenario["fingerprint"]
    jobs = await conn.fetch("SELECT entrypoint, payload FROM queue.pgqueuer WHERE entrypoint = 'roadmap.optimise'")
    assert [bytes(job["payload"]).decode() for job in jobs] == [run["id"]]

    cancelled = await client.post(f"/roadmap/runs/{run['id']}/cancel", headers=token_for(EDITOR))
    assert cancelled.json()["status"] == "cancelled"
    again = await client.post(f"/roadmap/runs/{run['id']}/cancel", headers=token_for(EDITOR))
    assert again.status_code == 409
    no_result = await client.get(f"/roadmap/runs/{run['id']}/result", headers=token_for("viewer"))
    assert no_result.status_code == 409


async def test_a_scenario_under_an_approved_plan_cannot_change_but_can_be_cloned(client, token_for, scored, conn):
    scenario = await create(client, token_for, scenario_body(scored))
    run_id = await conn.fetchval(
        """
        INSERT INTO roadmap.runs (scenario_id, status, document, input_fingerprint, created_by, result)
        SELECT id, 'succeeded', document, fingerprint, 'pm', '{"status": "optimal"}' FROM roadmap.scenarios WHERE id = $1
        RETURNING id
        """,
        scenario["id"],
    )
    await conn.execute(
        """
        INSERT INTO roadmap.plans (run_id, scenario_id, portfolio_id, name, status, created_by)
        VALUES ($1, $2, $3, 'Approved plan', 'approved', 'pm')
        """,
        run_id,
        scenario["id"],
        scored["portfolioId"],
    )
    url = f"/roadmap/scenarios/{scenario['id']}"
    assert (await client.get(url, headers=token_for("viewer"))).json()["locked"] is True
    changed = await client.patch(url, json={"name": "Sneaky"}, headers=token_for(EDITOR))
    assert changed.status_code == 409 and changed.headers["content-type"].startswith("application/problem+json")
    assert (await client.delete(url, headers=token_for(EDITOR))).status_code == 409
    clone = await client.post(f"{url}/clone", json={"name": "Next year"}, headers=token_for(EDITOR))
    assert clone.status_code == 201 and clone.json()["locked"] is False


async def test_explaining_asks_for_a_finished_plan_and_good_options(client, token_for, member_of, scored):
    scenario = await create(client, token_for, scenario_body(scored))
    run = (await client.post(f"/roadmap/scenarios/{scenario['id']}/runs", json={}, headers=token_for(EDITOR))).json()
    queued = await client.post(f"/roadmap/runs/{run['id']}/sensitivity", json={}, headers=token_for(EDITOR))
    assert queued.status_code == 409
    bad = await client.post(f"/roadmap/runs/{run['id']}/alternatives", json={"count": 0}, headers=token_for(EDITOR))
    assert bad.status_code == 422
    unknown = await client.post(
        f"/roadmap/runs/{run['id']}/alternatives", json={"colour": 1}, headers=token_for(EDITOR)
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "colour"
    viewer_headers = await member_of(scored["portfolioId"], "viewer")
    viewer = await client.post(f"/roadmap/runs/{run['id']}/sensitivity", json={}, headers=viewer_headers)
    assert viewer.status_code == 403
    missing = await client.post(
        "/roadmap/plans/00000000-0000-0000-0000-000000000000/replan",
        json={"name": "x", "movePenalty": 1},
        headers=token_for(EDITOR),
    )
    assert missing.status_code == 404


async def patch(client, token_for, scenario, body):
    return await client.patch(f"/roadmap/scenarios/{scenario['id']}", json=body, headers=token_for(EDITOR))


async def test_one_budget_is_one_small_patch_and_the_rest_stays(client, token_for, scored):
    scenario = await create(client, token_for, scenario_body(scored))
    changed = await patch(client, token_for, scenario, {"phases": [{"key": "improve", "budget": 30_000}]})
    assert changed.status_code == 200, changed.text
    budgets = {p["key"]: p["budget"] for p in changed.json()["phases"]}
    assert budgets == {p["key"]: (30_000 if p["key"] == "improve" else p["budget"]) for p in scenario["phases"]}
    assert changed.json()["teams"] == scenario["teams"] and changed.json()["revision"] == scenario["revision"] + 1
    dropped = await patch(client, token_for, scenario, {"phases": [{"key": "discovery", "remove": True}]})
    assert [p["key"] for p in dropped.json()["phases"]] == ["improve", "perfection", "personalization"]
    readded = await patch(client, token_for, scenario, {"phases": [{"key": "discovery", "budget": 1}]})
    assert [p["key"] for p in readded.json()["phases"]][0] == "discovery"  # back in time order
    solver = await patch(client, token_for, scenario, {"solver": {"relativeGap": 0.01}})
    assert solver.json()["solver"] == {"timeLimitSeconds": 10.0, "relativeGap": 0.01}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phases": [{"key": "discovery", "remove": True}, {"key": "discovery", "budget": 3}]}, "phases[1]"),
        ({"phases": [{"key": "improve", "remove": True, "budget": 3}]}, "phases[0]"),
        ({"teams": [{"key": "mobile", "remove": True}]}, "teams[0]"),
        ({"constraints": [{"kind": "pin", "idea": "A1", "remove": True}]}, "constraints[0]"),
        ({"constraints": [{"kind": "pin", "idea": "A1"}]}, "constraints[0].phase"),
        ({"constraints": [{"kind": "someday", "idea": "A1"}]}, "constraints[0].kind"),
        ({"phases": [{"key": "discovery", "remove": True}, {"key": "improve", "remove": True},
                     {"key": "perfection", "remove": True}, {"key": "personalization", "remove": True}]}, "phases"),
    ],
)  # fmt: skip
async def test_a_patch_that_cannot_apply_is_422_naming_its_field(client, token_for, scored, body, field):
    scenario = await create(client, token_for, scenario_body(scored))
    response = await patch(client, token_for, scenario, body)
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]
    unchanged = (await client.get(f"/roadmap/scenarios/{scenario['id']}", headers=token_for("viewer"))).json()
    assert unchanged["revision"] == scenario["revision"]


async def test_a_new_phase_needs_a_budget(client, token_for, scored):
    scenario = await create(
        client, token_for, scenario_body(scored, phases=[{"key": "improve", "budget": 5}], teams=[])
    )
    response = await patch(client, token_for, scenario, {"phases": [{"key": "perfection"}]})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "phases[0].budget"


async def test_constraints_patch_by_kind_and_idea(client, token_for, scored):
    scenario = await create(client, token_for, scenario_body(scored))
    pin = {"kind": "pin", "idea": "A2", "phase": "improve"}
    first = await patch(client, token_for, scenario, {"constraints": [pin, {"kind": "mandatory", "idea": "A1"}]})
    assert first.status_code == 200, first.text
    moved = await patch(client, token_for, scenario, {"constraints": [{**pin, "phase": "perfection"}]})
    assert moved.json()["constraints"] == [{**pin, "phase": "perfection"}, {"kind": "mandatory", "idea": "A1"}]
    removed = await patch(client, token_for, scenario, {"constraints": [{"kind": "pin", "idea": "A2", "remove": True}]})
    assert removed.json()["constraints"] == [{"kind": "mandatory", "idea": "A1"}]


async def test_a_team_left_out_is_named_with_its_ideas_and_comes_back_with_its_effort(client, token_for, scored):
    scenario = await create(client, token_for, scenario_body(scored, teams=[]))
    assert scenario["teamsLeftOut"] == [{"team": "web", "ideas": ["A1", "A2", "C"], "effort": 15.0}]
    document = (await client.get(f"/roadmap/scenarios/{scenario['id']}/document", headers=token_for("viewer"))).json()
    assert all(idea["effort"] == {} for idea in document["ideas"])
    added = await patch(client, token_for, scenario, {"teams": [{"key": "web", "capacity": {"improve": 12}}]})
    assert added.status_code == 200, added.text
    assert added.json()["teamsLeftOut"] == [] and added.json()["teams"] == [
        {"key": "web", "capacity": {"improve": 12.0}}
    ]
    document = (await client.get(f"/roadmap/scenarios/{scenario['id']}/document", headers=token_for("viewer"))).json()
    assert {idea["id"]: idea["effort"] for idea in document["ideas"]} == {
        "A1": {"web": 5.0},
        "A2": {"web": 5.0},
        "C": {"web": 5.0},
    }
    capacity = await patch(
        client, token_for, scenario, {"teams": [{"key": "web", "capacity": {"improve": None, "perfection": 3}}]}
    )
    assert capacity.json()["teams"] == [{"key": "web", "capacity": {"perfection": 3.0}}]


async def test_a_constraint_on_a_skipped_idea_says_it_was_skipped_and_why(client, token_for, scored):
    body = scenario_body(scored, constraints=[{"kind": "mandatory", "idea": "B"}])
    response = await client.post("/roadmap/scenarios", json=body, headers=token_for(EDITOR))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "constraints[0].idea"
    assert error["message"] == "idea 'B' is in the backlog, but this scenario skipped it (no cost estimate)"


async def test_compare_sets_apart_the_runs_that_do_not_compare(client, token_for, scored, conn):
    from test_role_matrix import finished_run

    scenario = await create(client, token_for, scenario_body(scored))
    scenario_id = uuid.UUID(scenario["id"])
    runs = [str(await finished_run(conn, scenario_id)) for _ in range(2)]
    sweep = str(await finished_run(conn, scenario_id, kind="frontier"))
    url, viewer = "/roadmap/runs/compare", token_for("viewer")
    mixed = await client.get(url, params=[("ids", runs[0]), ("ids", sweep), ("ids", runs[1])], headers=viewer)
    assert mixed.status_code == 200, mixed.text
    assert [column["runId"] for column in mixed.json()["runs"]] == runs
    assert [(item["runId"], item["kind"]) for item in mixed.json()["notCompared"]] == [(sweep, "frontier")]
    queued = (await client.post(f"/roadmap/scenarios/{scenario['id']}/runs", json={}, headers=token_for(EDITOR))).json()
    nothing = await client.get(url, params=[("ids", sweep), ("ids", queued["id"])], headers=viewer)
    assert nothing.status_code == 422
    assert [error["field"] for error in nothing.json()["errors"]] == ["query.ids[0]", "query.ids[1]"]
    assert "no result yet" in nothing.json()["errors"][1]["message"]


async def test_a_finished_runs_progress_is_its_final_state(client, token_for, scored, conn):
    from services.roadmap.scenarios import repository

    scenario = await create(client, token_for, scenario_body(scored))
    run = (await client.post(f"/roadmap/scenarios/{scenario['id']}/runs", json={}, headers=token_for(EDITOR))).json()
    run_id = uuid.UUID(run["id"])
    claimed = await repository.claim_run(conn, run_id)
    stale = {"stage": "search", "objective": 17.109, "bestBound": 18.6, "gap": 0.0846, "elapsedSeconds": 0.0,
             "assignments": [{"idea": "A1", "phase": "improve"}]}  # fmt: skip
    assert await repository.record_progress(conn, run_id, claimed.attempts, stale)
    result = {"status": "optimal", "objective": 17.3725, "bestBound": 17.3725, "gap": 0.0, "assignments": [],
              "phases": [], "solver": {"seconds": 2.5}}  # fmt: skip
    assert await repository.finish_run(
        conn, run_id, claimed.attempts, status="succeeded", result=result, error=None, solver_name="highs",
        solver_version="1",
    )  # fmt: skip
    progress = (await client.get(f"/roadmap/runs/{run_id}", headers=token_for("viewer"))).json()["progress"]
    assert progress == {
        "stage": "finished",
        "objective": 17.3725,
        "bestBound": 17.3725,
        "gap": 0.0,
        "elapsedSeconds": 2.5,
    }
