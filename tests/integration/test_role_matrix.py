"""The access matrix: every operation of every service, against every kind of caller.

The operations come from the services' own OpenAPI documents, so a new endpoint fails this
test until it is given its right below. The world is one real portfolio with a model, a
scenario, finished runs, a submitted and an approved plan, a Jira connection and a push; the
path parameters point at those records, and every body is a valid one, so what a caller gets
is decided by who it is, not by a made-up id or a broken body.

The callers: a member with each portfolio role, a non-member whose token holds every role
but admin (token roles give no rights on a portfolio), an admin who is no member, and no
token. Every call runs in a savepoint that is rolled back, so each sees the same world.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import jwt
import pytest
from roadmap_fixtures import EDITOR, scenario_body, scored_portfolio

pytestmark = pytest.mark.integration

READ, PLAN, DECIDE, DELIVER, MANAGE, RATE = "read", "plan", "decide", "deliver", "manage", "rate"
CREATE_PORTFOLIO, OWN_LIST, SIGNED_BY_JIRA = "create-portfolio", "own-list", "signed-by-jira"

# The right each operation needs on the portfolio it touches.
RIGHTS: dict[str, str] = {
    # scoring
    "createPortfolio": CREATE_PORTFOLIO, "listPortfolios": OWN_LIST, "getPortfolio": READ,
    "updatePortfolio": PLAN, "deletePortfolio": MANAGE, "getJourneyMap": READ,
    "createIdea": PLAN, "createIdeas": PLAN, "listIdeas": READ, "getIdea": READ, "replaceIdea": PLAN,
    "updateIdea": PLAN, "deleteIdea": PLAN, "getIdeaScores": READ, "exportIdeas": READ, "importIdeas": PLAN,
    "createModel": PLAN, "listModels": READ, "getModel": READ, "reviseModel": PLAN, "deleteModel": PLAN,
    "listModelVersions": READ, "getRanking": READ, "getScoreSnapshot": READ,
    "listMembers": READ, "setMember": MANAGE, "removeMember": MANAGE, "setGroupMember": MANAGE,
    "removeGroupMember": MANAGE, "getIdeaHistory": READ, "reviewJourneyValue": PLAN,
    "setIdeaActuals": DELIVER, "getIdeaActuals": READ, "addKpiMeasurement": DELIVER, "listKpiMeasurements": READ,
    "getCalibration": READ, "rateIdea": RATE, "withdrawRating": RATE, "getIdeaRatings": READ,
    # roadmap
    "createScenario": PLAN, "importScenario": PLAN, "listScenarios": OWN_LIST, "getScenario": READ,
    "updateScenario": PLAN, "cloneScenario": PLAN, "deleteScenario": PLAN, "exportScenario": READ,
    "startRun": PLAN, "startFrontier": PLAN, "listRuns": READ, "compareRuns": READ, "getRun": READ,
    "getRunResult": READ, "getFrontierChart": READ, "startSensitivity": PLAN, "startAlternatives": PLAN,
    "cancelRun": PLAN, "replanPlan": PLAN, "promoteRun": PLAN, "listPlans": OWN_LIST, "getPlan": READ,
    "submitPlan": PLAN, "decidePhase": DECIDE, "getPlanAudit": READ, "revisePlan": PLAN, "withdrawPlan": PLAN,
    "createSubscription": MANAGE, "listSubscriptions": MANAGE, "getSubscription": MANAGE,
    "deleteSubscription": MANAGE, "listEventDeliveries": MANAGE,
    # integrations
    "createConnection": DELIVER, "listConnections": OWN_LIST, "getConnection": READ,
    "updateConnection": DELIVER, "deleteConnection": DELIVER, "dryRunPush": DELIVER, "startPush": DELIVER,
    "getPush": READ, "receiveJiraWebhook": SIGNED_BY_JIRA, "getDelivery": READ,
    "listConnectionPushes": READ, "listPlanPushes": READ, "cancelPush": DELIVER, "refreshDelivery": DELIVER,
    "listIdeaDelivery": READ, "getIdeaDelivery": READ,
}  # fmt: skip

ROLES_ALLOWED = {
    READ: {"viewer", "stakeholder", "programme_manager", "leader", "delivery"},
    PLAN: {"programme_manager"},
    DECIDE: {"leader"},
    DELIVER: {"programme_manager", "delivery"},
    MANAGE: {"programme_manager"},
    RATE: {"stakeholder"},
}
MEMBER_ROLES = ("viewer", "stakeholder", "programme_manager", "leader", "delivery")
CREATOR = "pm@example.com"


class World(dict[str, Any]):
    """The ids of the records the operations are called on."""


async def build_world(client, token_for, conn) -> World:
    creator = token_for(EDITOR, subject=CREATOR)
    scored = await scored_portfolio(client, lambda *roles, **kw: creator)
    portfolio = scored["portfolioId"]
    base = scored["base"]
    for role in MEMBER_ROLES:
        if role != "programme_manager":
            response = await client.put(f"{base}/members/{role}@example.com", json={"roles": [role]}, headers=creator)
            assert response.status_code == 200, response.text
    group = await client.put(f"{base}/groups/journey-team", json={"roles": ["viewer"]}, headers=creator)
    assert group.status_code == 200, group.text
    departments = [{"key": "cx", "name": "Customer experience", "customerFacing": True}]
    listed = await client.patch(base, json={"departments": departments}, headers=creator)
    assert listed.status_code == 200, listed.text
    # The callers allowed to withdraw a rating have one to withdraw.
    for rater in (
        token_for("stakeholder", subject="stakeholder@example.com"),
        token_for("admin", subject="admin@example.com"),
    ):
        rating = await client.put(
            f"{base}/ideas/A1/ratings/customerValue", json={"value": 7, "department": "cx"}, headers=rater
        )
        assert rating.status_code == 201, rating.text
    scenario = await client.post("/roadmap/scenarios", json=scenario_body(scored), headers=creator)
    assert scenario.status_code == 201, scenario.text
    scenario_id = uuid.UUID(scenario.json()["id"])
    document = scenario.json()
    runs = [await finished_run(conn, scenario_id) for _ in range(3)]
    sweep = await finished_run(conn, scenario_id, kind="frontier")
    submitted = await plan_of(client, creator, runs[0], submit=True)
    approved = await plan_of(client, creator, runs[1], submit=True)
    for phase in approved["phases"]:
        decision = {"decision": "approve", "comment": "ok"}
        decided = await client.post(
            f"/roadmap/plans/{approved['id']}/phases/{phase['key']}/decision",
            json=decision,
            headers=token_for("leader", subject="leader@example.com"),
        )
        assert decided.status_code == 200, decided.text
    connection_id = await conn.fetchval(
        """
        INSERT INTO integrations.connections
            (portfolio_id, site_url, project_key, account_email, api_token_ref, mapping, created_by)
        VALUES ($1, 'https://acme.atlassian.net', 'CJ', 'bot@acme.example', 'env:ROADMAP_SECRET_JIRA', '{}', $2)
        RETURNING id
        """,
        uuid.UUID(portfolio),
        CREATOR,
    )
    push_id = await conn.fetchval(
        "INSERT INTO integrations.pushes (connection_id, plan_id, created_by) VALUES ($1, $2, $3) RETURNING id",
        connection_id,
        uuid.UUID(approved["id"]),
        CREATOR,
    )
    await conn.execute(
        """
        INSERT INTO scoring.idea_actuals (idea_id, cost, recorded_at, recorded_by)
        SELECT id, 100, now(), $2 FROM scoring.ideas WHERE portfolio_id = $1 AND ref = 'A1'
        """,
        uuid.UUID(portfolio),
        CREATOR,
    )
    subscription_id = await conn.fetchval(
        """
        INSERT INTO events.subscriptions (portfolio_id, url, event_types, secret_ref, created_by)
        VALUES ($1, 'https://hooks.acme.example/roadmap', '{plan.submitted}', 'env:ROADMAP_SECRET_HOOK', $2)
        RETURNING id
        """,
        uuid.UUID(portfolio),
        CREATOR,
    )
    return World(
        subscription=str(subscription_id), portfolio=portfolio, model=scored["modelId"], scenario=str(scenario_id), run=str(runs[2]),
        other_run=str(runs[0]), sweep=str(sweep), submitted_plan=submitted["id"], approved_plan=approved["id"],
        connection=str(connection_id), push=str(push_id), scored=scored, phases=[p["key"] for p in document["phases"]],
    )  # fmt: skip


async def finished_run(conn, scenario_id: uuid.UUID, kind: str = "optimise") -> uuid.UUID:
    """A succeeded optimisation (or frontier sweep) of the scenario, its result as the job writes it."""
    document = await conn.fetchval("SELECT document FROM roadmap.scenarios WHERE id = $1", scenario_id)
    first_phase = document["phases"][0]["key"]
    point = {"factor": 1.0, "totalBudget": 1.0, "status": "optimal", "objective": 1.0, "bestBound": 1.0, "gap": 0.0}
    result = {"points": [point]} if kind == "frontier" else {
        "name": document["name"], "status": "optimal", "objective": 1.0, "bestBound": 1.0, "gap": 0.0,
        "assignments": [{"idea": document["ideas"][0]["id"], "phase": first_phase}],
        "phases": [{"key": p["key"], "budget": p["budget"], "spend": 0.0, "capacity": []} for p in document["phases"]],
        "leftOut": [], "diagnosis": [], "solver": {"name": "highs", "version": "1.11.0"},
    }  # fmt: skip
    return await conn.fetchval(
        """
        INSERT INTO roadmap.runs (scenario_id, kind, status, document, input_fingerprint, result, created_by, finished_at)
        VALUES ($1, $2, 'succeeded', $3, 'sha256:x', $4, $5, now()) RETURNING id
        """,
        scenario_id,
        kind,
        document,
        result,
        CREATOR,
    )


async def plan_of(client, creator, run_id, *, submit: bool) -> dict:
    plan = await client.post(f"/roadmap/runs/{run_id}/plans", json={"name": f"Plan {run_id}"}, headers=creator)
    assert plan.status_code == 201, plan.text
    if submit:
        submitted = await client.post(f"/roadmap/plans/{plan.json()['id']}/submit", headers=creator)
        assert submitted.status_code == 200, submitted.text
    return plan.json()


def concrete(path: str, operation: str, world: World) -> str:
    plan = (
        world["submitted_plan"]
        if operation in ("decidePhase", "submitPlan", "revisePlan", "withdrawPlan")
        else world["approved_plan"]
    )
    values = {
        "portfolio_id": world["portfolio"], "model_id": world["model"], "scenario_id": world["scenario"],
        "run_id": world["sweep"] if operation == "getFrontierChart" else world["run"], "plan_id": plan, "connection_id": world["connection"], "push_id": world["push"],
        "subscription_id": world["subscription"],
        "ref": "A1", "key": "nps", "phase": world["phases"][1], "subject": "viewer@example.com", "group": "journey-team",
        "criterion": "customerValue",
    }  # fmt: skip
    return re.sub(r"\{([a-z_]+)\}", lambda m: values[m.group(1)], path)


def request_of(operation: str, world: World) -> dict[str, Any]:
    """A valid request body (or query) for the operation."""
    idea = {"ref": "NEW-1", "title": "A new idea", "phases": ["improve"]}
    bodies: dict[str, Any] = {
        "createPortfolio": {"name": "Another"}, "updatePortfolio": {"name": "Renamed"},
        "createIdea": idea, "createIdeas": {"ideas": [idea]}, "replaceIdea": {"title": "Replaced", "phases": ["improve"]},
        "updateIdea": {"title": "Changed"},
        "createModel": {"name": "Another", "definition": {"kind": "rice"}}, "reviseModel": {"definition": {"kind": "ice"}},
        "setMember": {"roles": ["leader"]}, "setGroupMember": {"roles": ["delivery"]},
        "rateIdea": {"value": 5, "department": "cx"},
        "createScenario": scenario_body(world["scored"], name="Another"),
        "importScenario": {"portfolioId": world["portfolio"], "document": {
            "name": "Imported", "phases": [{"key": "improve", "budget": 10}], "ideas": [{"id": "I", "value": 1, "cost": 1}]}},
        "updateScenario": {"name": "Renamed"}, "cloneScenario": {"name": "Copy"}, "startRun": {},
        "startFrontier": {"fromFactor": 0.5, "toFactor": 1.5, "points": 3}, "startSensitivity": {},
        "startAlternatives": {"count": 1}, "replanPlan": {"name": "Next", "movePenalty": 1},
        "promoteRun": {"name": "Promoted"}, "decidePhase": {"decision": "approve", "comment": "ok"},
        "revisePlan": {"runId": world["run"]},
        "createConnection": {"portfolioId": world["portfolio"], "siteUrl": "https://other.atlassian.net",
                             "projectKey": "OT", "accountEmail": "bot@acme.example", "apiTokenRef": "env:ROADMAP_SECRET_JIRA"},
        "updateConnection": {"mapping": {}}, "dryRunPush": {"planId": world["approved_plan"]},
        "startPush": {"planId": world["approved_plan"]},
        "reviewJourneyValue": {"facet": "persona", "value": "Busy parent"},
        "setIdeaActuals": {"cost": 1}, "addKpiMeasurement": {"value": 1, "date": "2027-01-01"},
        "createSubscription": {"portfolioId": world["portfolio"], "url": "https://127.0.0.1/other",
                               "events": ["plan.approved"], "secretRef": "env:ROADMAP_SECRET_HOOK"},
    }  # fmt: skip
    if operation == "importIdeas":
        return {"content": "ref,title\nNEW-2,Imported idea\n", "headers": {"Content-Type": "text/csv"}}
    if operation == "listSubscriptions":
        return {"params": {"portfolioId": world["portfolio"]}}
    if operation == "compareRuns":
        return {"params": {"ids": [world["run"], world["other_run"]]}}
    if operation in bodies:
        return {"json": bodies[operation]}
    return {}


async def operations(client) -> list[tuple[str, str, str]]:
    found = []
    for service in ("scoring", "roadmap", "integrations"):
        document = (await client.get(f"/{service}/schema/openapi.json")).json()
        for path, methods in document["paths"].items():
            for method, operation in methods.items():
                found.append((method.upper(), path, operation["operationId"]))
    return found


def tokens(token_for) -> dict[str, dict[str, str]]:
    callers = {role: token_for(role, subject=f"{role}@example.com") for role in MEMBER_ROLES if role != EDITOR}
    callers[EDITOR] = token_for(EDITOR, subject=CREATOR)
    callers["outsider"] = token_for(
        "viewer", "stakeholder", EDITOR, "leader", "delivery", subject="outsider@example.com"
    )
    callers["admin"] = token_for("admin", subject="admin@example.com")
    # A subject that is no member itself, only through its identity provider's group.
    callers["group member"] = token_for(subject="someone@example.com", groups=("journey-team",))
    return callers


def expected(right: str, caller: str) -> str:
    """`allowed`, `forbidden` (403) or `hidden` (404) for a caller on the world's portfolio."""
    if caller == "admin":
        return "allowed"
    if caller == "outsider":
        return "hidden"
    role = "viewer" if caller == "group member" else caller
    return "allowed" if role in ROLES_ALLOWED[right] else "forbidden"


async def call(client, conn, method: str, path: str, headers: dict[str, str], request: dict[str, Any]):
    """One request inside a savepoint that is rolled back: every call sees the same world."""
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        extra = dict(request)
        merged = {**headers, **extra.pop("headers", {})}
        return await client.request(method, path, headers=merged, **extra)
    finally:
        await savepoint.rollback()


async def test_every_operation_lets_in_exactly_the_members_whose_roles_allow_it(client, token_for, conn):
    world = await build_world(client, token_for, conn)
    callers = tokens(token_for)
    found = await operations(client)
    assert {operation for _, _, operation in found} == set(RIGHTS), "every operation has its right in RIGHTS"
    checked = 0
    for method, path, operation in found:
        right = RIGHTS[operation]
        if right in (SIGNED_BY_JIRA, CREATE_PORTFOLIO, OWN_LIST):
            continue
        url = concrete(path, operation, world)
        for caller, headers in callers.items():
            if operation == "decidePhase" and caller == EDITOR:
                continue  # the creator is refused for four eyes as well; tested on its own
            response = await call(client, conn, method, url, headers, request_of(operation, world))
            outcome = expected(right, caller)
            where = (operation, caller, response.status_code, response.text[:300])
            if outcome == "allowed":
                assert response.status_code not in (401, 403, 404) and response.status_code < 500, where
            elif outcome == "forbidden":
                assert response.status_code == 403, where
                assert response.headers["content-type"].startswith("application/problem+json"), where
            else:
                assert response.status_code == 404, where
                assert response.json()["type"].endswith("/not-found"), where
            checked += 1
    assert checked > 350


async def test_lists_show_members_their_portfolios_and_non_members_none(client, token_for, conn):
    world = await build_world(client, token_for, conn)
    callers = tokens(token_for)
    lists = {
        "/scoring/portfolios": lambda body: [item["id"] for item in body["items"]],
        "/roadmap/scenarios": lambda body: [item["portfolioId"] for item in body["items"]],
        "/roadmap/plans": lambda body: [item["portfolioId"] for item in body["items"]],
        "/integrations/connections": lambda body: [item["portfolioId"] for item in body],
    }
    for url, portfolios_of in lists.items():
        for caller, headers in callers.items():
            response = await client.get(
                url, headers=headers, params={"pageSize": 1000} if "integrations" not in url else None
            )
            assert response.status_code == 200, (url, caller, response.text)
            listed = set(portfolios_of(response.json()))
            assert (world["portfolio"] in listed) == (caller != "outsider"), (url, caller)
        # Asking for the portfolio by name does not help a non-member either.
        if url != "/scoring/portfolios":
            response = await client.get(url, params={"portfolioId": world["portfolio"]}, headers=callers["outsider"])
            assert response.status_code == 404, (url, response.text)


async def test_a_programme_manager_token_creates_portfolios_and_manages_them_alone(client, token_for):
    for role in ("viewer", "leader", "delivery", "stakeholder"):
        refused = await client.post(
            "/scoring/portfolios", json={"name": "X"}, headers=token_for(role, subject=f"{role}@x")
        )
        assert refused.status_code == 403, refused.text
    mine = token_for(EDITOR, subject="new-pm@example.com")
    created = await client.post("/scoring/portfolios", json={"name": "Mine"}, headers=mine)
    assert created.status_code == 201, created.text
    members = await client.get(f"/scoring/portfolios/{created.json()['id']}/members", headers=mine)
    assert [(m["kind"], m["name"], m["roles"]) for m in members.json()] == [
        ("subject", "new-pm@example.com", ["programme_manager"])
    ]
    other_pm = token_for(EDITOR, subject="other-pm@example.com")
    assert (await client.get(f"/scoring/portfolios/{created.json()['id']}", headers=other_pm)).status_code == 404


async def test_no_operation_answers_without_a_valid_token(client, auth_settings):
    now = int(time.time())
    claims = {"sub": "x", "roles": ["admin"], "iss": auth_settings.issuer, "aud": auth_settings.audience}
    expired = jwt.encode({**claims, "exp": now - 5}, auth_settings.signing_key, algorithm="HS256")
    forged = jwt.encode({**claims, "exp": now + 300}, "not-our-key-" + "z" * 32, algorithm="HS256")
    for method, path, operation in await operations(client):
        if RIGHTS.get(operation) == SIGNED_BY_JIRA:
            continue
        url = re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), path).replace("{ref}", "X-1")
        for headers in ({}, {"Authorization": f"Bearer {expired}"}, {"Authorization": f"Bearer {forged}"}):
            response = await client.request(method, url, headers=headers)
            assert response.status_code == 401, (operation, headers.keys(), response.status_code)
