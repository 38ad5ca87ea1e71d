"""Scenarios over HTTP: frozen scores from the scoring service, edits, clones, export and import."""

from __future__ import annotations

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
    response = await client.post("/roadmap/scenarios", json=scenario_body(scored, **overrides), headers=token_for(EDITOR))
    assert response.status_code in (400, 422), response.text
    assert any(error["field"].startswith(field) for error in response.json()["errors"]), response.json()
    assert await conn.fetchval("SELECT count(*) FROM roadmap.scenarios") == 0


async def test_an_unknown_model_is_a_404(client, token_for, scored):
    body = scenario_body(scored, modelId="00000000-0000-0000-0000-000000000000")
    response = await client.post("/roadmap/scenarios", json=body, headers=token_for(EDITOR))
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["viewer", "leader", "delivery"])
async def test_only_programme_managers_and_admins_make_scenarios(client, member_of, scored, role, conn):
    headers = await member_of(scored["portfolioId"], role)
    response = await client.post("/roadmap/scenarios", json=scenario_body(scored), headers=headers)
    assert response.status_code == 403
    assert await conn.fetchval("SELECT count(*) FROM roadmap.scenarios") == 0


async def test_editing_settings_makes_a_new_revision_and_fingerprint(client, token_for, scored):
    scenario = await create(client, token_for, scenario_body(scored))
    url = f"/roadmap/scenarios/{scenario['id']}"
    more = [{**phase, "budget": phase["budget"] * 1.2} if phase["key"] == "improve" else phase for phase in scenario["phases"]]
    response = await client.patch(url, json={"phases": more, "name": "Improve +20%"}, headers=token_for(EDITOR))
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["revision"] == 2 and changed["name"] == "Improve +20%"
    assert changed["fingerprint"] != scenario["fingerprint"]
    assert changed["ideaCount"] == scenario["ideaCount"]
    bad = await client.patch(url, json={"constraints": [{"kind": "exclude", "idea": "nope"}]}, headers=token_for(EDITOR))
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
    document = {"name": "x", "phases": [{"key": "improve", "budget": 10}], "ideas": [{"id": "I", "value": 1, "cost": "lots"}]}
    response = await client.post(
        "/roadmap/scenarios/import",
        json={"portfolioId": scored["portfolioId"], "document": document},
        headers=token_for(EDITOR),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "document.ideas[0].cost"
    assert await conn.fetchval("SELECT count(*) FROM roadmap.scenarios") == 0


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
    unknown = await client.post(f"/roadmap/runs/{run['id']}/alternatives", json={"colour": 1}, headers=token_for(EDITOR))
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
