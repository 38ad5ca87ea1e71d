"""Portfolios as tenants over HTTP: members and groups, four eyes, and deletion that orphans nothing."""

from __future__ import annotations

import uuid

import pytest
from roadmap_fixtures import EDITOR, LEADER, scenario_body, scored_portfolio
from test_role_matrix import finished_run

pytestmark = pytest.mark.integration


@pytest.fixture
async def scored(client, token_for):
    return await scored_portfolio(client, token_for)


async def test_programme_managers_manage_members_and_a_portfolio_keeps_one(client, token_for, scored):
    base, pm = scored["base"], token_for(EDITOR)
    put = await client.put(f"{base}/members/ann@example.com", json={"roles": ["viewer", "delivery"]}, headers=pm)
    assert put.status_code == 200, put.text
    assert put.json()["roles"] == ["viewer", "delivery"] and put.json()["addedBy"] == "tester@example.com"
    again = await client.put(f"{base}/members/ann@example.com", json={"roles": ["leader"]}, headers=pm)
    assert again.json()["roles"] == ["leader"]  # replaced, not added to
    members = (await client.get(f"{base}/members", headers=token_for("viewer", subject="ann@example.com"))).json()
    assert {(m["kind"], m["name"]): m["roles"] for m in members} == {
        ("subject", "tester@example.com"): ["programme_manager"],
        ("subject", LEADER): ["leader"],
        ("subject", "ann@example.com"): ["leader"],
    }

    # A leader is a member, but not one who manages members.
    ann = token_for("leader", subject="ann@example.com")
    refused = await client.put(f"{base}/members/bob@example.com", json={"roles": ["viewer"]}, headers=ann)
    assert refused.status_code == 403 and "programme_manager" in refused.json()["detail"]

    # The last programme manager can neither leave nor be demoted; with a second one, both can.
    last = await client.delete(f"{base}/members/tester@example.com", headers=pm)
    assert last.status_code == 409 and last.json()["errors"][0]["field"] == "roles"
    demoted = await client.put(f"{base}/members/tester@example.com", json={"roles": ["viewer"]}, headers=pm)
    assert demoted.status_code == 409
    await client.put(f"{base}/groups/pmo", json={"roles": ["programme_manager"]}, headers=pm)
    assert (await client.delete(f"{base}/members/tester@example.com", headers=pm)).status_code == 204
    assert (await client.get(base, headers=pm)).status_code == 404  # no longer a member: hidden again


@pytest.mark.parametrize(
    ("body", "field"),
    [({"roles": ["owner"]}, "roles[0]"), ({"roles": []}, "roles"), ({"roles": "viewer"}, "roles"), ({}, "roles"),
     ({"roles": ["viewer"], "extra": 1}, "extra")],
)  # fmt: skip
async def test_a_bad_membership_is_422_naming_the_field(client, token_for, scored, conn, body, field):
    response = await client.put(f"{scored['base']}/members/ann@example.com", json=body, headers=token_for(EDITOR))
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert await conn.fetchval("SELECT count(*) FROM access.members WHERE name = 'ann@example.com'") == 0


async def test_removing_what_is_not_there_is_404_and_names_are_bounded(client, token_for, scored):
    pm = token_for(EDITOR)
    assert (await client.delete(f"{scored['base']}/members/nobody@example.com", headers=pm)).status_code == 404
    assert (await client.delete(f"{scored['base']}/groups/nobody", headers=pm)).status_code == 404
    long = await client.put(f"{scored['base']}/members/{'x' * 256}", json={"roles": ["viewer"]}, headers=pm)
    assert long.status_code == 422 and long.json()["errors"][0]["field"] == "subject"


async def test_a_group_from_the_identity_provider_gives_its_members_their_roles(client, token_for, scored):
    base = scored["base"]
    carol = token_for(subject="carol@example.com", groups=("cx-team", "other"))
    assert (await client.get(base, headers=carol)).status_code == 404
    await client.put(f"{base}/groups/cx-team", json={"roles": ["viewer"]}, headers=token_for(EDITOR))
    assert (await client.get(base, headers=carol)).status_code == 200
    listed = await client.get("/scoring/portfolios", headers=carol)
    assert [p["id"] for p in listed.json()["items"]] == [scored["portfolioId"]]
    write = await client.post(f"{base}/ideas", json={"ref": "G-1", "title": "x"}, headers=carol)
    assert write.status_code == 403
    assert (await client.delete(f"{base}/groups/cx-team", headers=token_for(EDITOR))).status_code == 204
    assert (await client.get(base, headers=carol)).status_code == 404


async def submitted_plan(client, token_for, conn, scored, *, headers) -> dict:
    scenario = await client.post("/roadmap/scenarios", json=scenario_body(scored), headers=headers)
    assert scenario.status_code == 201, scenario.text
    run_id = await finished_run(conn, uuid.UUID(scenario.json()["id"]))
    plan = await client.post(f"/roadmap/runs/{run_id}/plans", json={"name": "Four eyes"}, headers=headers)
    assert plan.status_code == 201, plan.text
    submitted = await client.post(f"/roadmap/plans/{plan.json()['id']}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.text
    return submitted.json()


async def test_whoever_made_or_submitted_a_plan_never_decides_it(client, token_for, member_of, conn, scored):
    # One subject holding both roles on the portfolio makes and submits the plan...
    both = await member_of(scored["portfolioId"], "programme_manager", "leader", subject="both@example.com")
    plan = await submitted_plan(client, token_for, conn, scored, headers=both)
    assert plan["createdBy"] == plan["submittedBy"] == "both@example.com"
    decide = f"/roadmap/plans/{plan['id']}/phases/{plan['phases'][0]['key']}/decision"
    own = await client.post(decide, json={"decision": "approve", "comment": "mine"}, headers=both)
    assert own.status_code == 403 and "four eyes" in own.json()["detail"]
    # Another leader decides, and the audit trail names the role that allowed each step.
    leader = token_for("leader", subject=LEADER)
    decided = await client.post(decide, json={"decision": "approve", "comment": "ok"}, headers=leader)
    assert decided.status_code == 200, decided.text
    trail = (await client.get(f"/roadmap/plans/{plan['id']}/audit", headers=both)).json()
    assert [(e["action"], e["actor"], e["actorRole"]) for e in trail] == [
        ("created", "both@example.com", "programme_manager"),
        ("submitted", "both@example.com", "programme_manager"),
        ("phase_approved", LEADER, "leader"),
    ]
    # An admin who is not a member decides as admin, and the trail says so.
    admin = token_for("admin", subject="root@example.com")
    second = f"/roadmap/plans/{plan['id']}/phases/{plan['phases'][1]['key']}/decision"
    by_admin = await client.post(second, json={"decision": "approve", "comment": "ok"}, headers=admin)
    assert by_admin.status_code == 200, by_admin.text
    trail = (await client.get(f"/roadmap/plans/{plan['id']}/audit", headers=both)).json()
    assert (trail[-1]["actor"], trail[-1]["actorRole"]) == ("root@example.com", "admin")


async def test_a_portfolio_with_a_decided_plan_is_kept_and_one_without_leaves_nothing_behind(
    client, token_for, conn, scored
):
    pm, admin = token_for(EDITOR), token_for("admin", subject="root@example.com")
    plan = await submitted_plan(client, token_for, conn, scored, headers=pm)
    draft_run = await finished_run(conn, uuid.UUID(plan["scenarioId"]))
    draft = (await client.post(f"/roadmap/runs/{draft_run}/plans", json={"name": "Draft"}, headers=pm)).json()
    await conn.execute(
        """
        INSERT INTO integrations.connections
            (portfolio_id, site_url, project_key, account_email, api_token_ref, mapping, created_by)
        VALUES ($1, 'https://acme.atlassian.net', 'CJ', 'bot@acme.example', 'env:ROADMAP_SECRET_JIRA', '{}', 't')
        """,
        uuid.UUID(scored["portfolioId"]),
    )
    # Another team's programme manager is not told the portfolio exists.
    stranger = token_for(EDITOR, subject="stranger@example.com")
    assert (await client.delete(scored["base"], headers=stranger)).status_code == 404

    kept = await client.delete(scored["base"], headers=pm)
    assert kept.status_code == 409, kept.text
    assert [error["message"] for error in kept.json()["errors"]] == [f"plan {plan['id']} ('Four eyes') is submitted"]
    assert (await client.get(f"/roadmap/plans/{draft['id']}", headers=pm)).status_code == 200  # nothing was deleted

    withdrawn = await client.post(f"/roadmap/plans/{plan['id']}/withdraw", headers=pm)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert (await client.delete(scored["base"], headers=pm)).status_code == 204
    for url in (scored["base"], f"/roadmap/scenarios/{plan['scenarioId']}", f"/roadmap/runs/{draft_run}",
                f"/roadmap/plans/{draft['id']}", f"/roadmap/plans/{plan['id']}"):  # fmt: skip
        assert (await client.get(url, headers=admin)).status_code == 404, url
    replan = await client.post(
        f"/roadmap/plans/{plan['id']}/replan", json={"name": "x", "movePenalty": 1}, headers=admin
    )
    assert replan.status_code == 404
    left = await conn.fetchval(
        """
        SELECT (SELECT count(*) FROM roadmap.scenarios WHERE portfolio_id = $1)
             + (SELECT count(*) FROM roadmap.plans WHERE portfolio_id = $1)
             + (SELECT count(*) FROM integrations.connections WHERE portfolio_id = $1)
             + (SELECT count(*) FROM access.members WHERE portfolio_id = $1)
             + (SELECT count(*) FROM scoring.ideas WHERE portfolio_id = $1)
        """,
        uuid.UUID(scored["portfolioId"]),
    )
    assert left == 0
