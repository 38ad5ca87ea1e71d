"""Plans and approvals over HTTP against the real database: lifecycle, roles, audit, locking.

Scenario and run rows are inserted with plain SQL: a plan only needs a finished run, and the
run's result document is written here as the optimiser writes it.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from tenancy import drop_portfolio

from services.kit.db import PoolSource
from services.roadmap.plans import domain as plans_domain, service as plans_service
from services.single_process import create_single_process_app

pytestmark = pytest.mark.integration

EDITOR = "programme_manager"
TWO_PHASES = (("improve", 300_000, 250_000), ("perfection", 250_000, 90_000))


def result_document(phases=TWO_PHASES, *, status="optimal"):
    """A result document as the optimiser stores it: two ideas per phase, one idea left out."""
    found = status in ("optimal", "feasible")
    return {
        "name": "Q3 plan",
        "status": status,
        "objective": 412.5 if found else None,
        "bestBound": 412.5 if found else 430.0,
        "gap": 0.0 if found else None,
        "assignments": [
            {"idea": f"I-{key}-{n}", "phase": key} for key, _, _ in (phases if found else ()) for n in (1, 2)
        ],
        "phases": [
            {"key": key, "budget": budget, "spend": spend, "capacity": [{"team": "web", "capacity": 120.0, "use": 80.0}]}
            for key, budget, spend in (phases if found else ())
        ],
        "leftOut": [{"idea": "I-99", "reason": "over_budget", "detail": {"phase": "improve"}}],
        "diagnosis": [],
        "solver": {
            "name": "highs", "version": "1.11.0", "timeLimitSeconds": 30.0, "relativeGap": 0.0, "seconds": 0.2,
            "modelStatus": "Optimal", "greedyObjective": 380.0, "whatIfResolved": 1, "whatIfSkipped": 0,
        },
    }  # fmt: skip


# Members of every portfolio these tests make: the default test subject manages it, and the
# leaders the tests decide as may decide its phases (none of them made or submitted a plan).
LEADERS = ("lead@example.com", "other-lead@example.com", "lead-1@example.com", "lead-2@example.com")


async def tenant(conn, portfolio_id=None):
    """A portfolio as the access schema knows it, with the tests' programme manager and leaders."""
    portfolio_id = await conn.fetchval(
        "INSERT INTO access.portfolios (id) VALUES (coalesce($1, gen_random_uuid())) ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id RETURNING id",
        portfolio_id,
    )
    members = [("tester@example.com", ["programme_manager"])] + [(leader, ["leader"]) for leader in LEADERS]
    await conn.executemany(
        """
        INSERT INTO access.members (portfolio_id, kind, name, roles, added_by) VALUES ($1, 'subject', $2, $3, 'test')
        ON CONFLICT DO NOTHING
        """,
        [(portfolio_id, subject, roles) for subject, roles in members],
    )
    return portfolio_id


async def insert_run(conn, *, portfolio_id=None, scenario_id=None, status="succeeded", result=None, kind="optimise"):
    """A scenario (unless given) and a finished run of it; returns (scenario id, run id)."""
    if scenario_id is None:
        portfolio_id = await tenant(conn, portfolio_id)
        scenario_id = await conn.fetchval(
            """
            INSERT INTO roadmap.scenarios (portfolio_id, name, source, document, fingerprint, created_by)
            VALUES ($1, 'Q3 plan', $2, $3, 'sha256:scenario', 'pm@example.com') RETURNING id
            """,
            portfolio_id,
            {"modelVersion": 1},
            {"name": "Q3 plan", "phases": [{"key": "improve", "budget": 300000}], "ideas": []},
        )
    run_id = await conn.fetchval(
        """
        INSERT INTO roadmap.runs (scenario_id, kind, status, document, input_fingerprint, result,
                                  solver_name, solver_version, created_by, started_at, finished_at)
        VALUES ($1, $2, $3, $4, 'sha256:run-input', $5, $6, $7, 'pm@example.com', now(), now())
        RETURNING id
        """,
        scenario_id,
        kind,
        status,
        {"name": "Q3 plan"},
        result if result is not None or status != "succeeded" else result_document(),
        "highs" if status == "succeeded" else None,
        "1.11.0" if status == "succeeded" else None,
    )
    return scenario_id, run_id


async def promote(client, token_for, run_id, name="Q3 plan", role=EDITOR):
    return await client.post(f"/roadmap/runs/{run_id}/plans", json={"name": name}, headers=token_for(role))


async def decide(client, token_for, plan_id, phase, decision, comment="looks right", subject="lead@example.com"):
    return await client.post(
        f"/roadmap/plans/{plan_id}/phases/{phase}/decision",
        json={"decision": decision, "comment": comment},
        headers=token_for("leader", subject=subject),
    )


@pytest.fixture
async def plan(client, token_for, conn):
    """A draft plan over a two-phase run."""
    _, run_id = await insert_run(conn)
    response = await promote(client, token_for, run_id)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def submitted(client, token_for, plan):
    response = await client.post(f"/roadmap/plans/{plan['id']}/submit", headers=token_for(EDITOR))
    assert response.status_code == 200, response.text
    return response.json()


async def audit_actions(client, token_for, plan_id) -> list[str]:
    response = await client.get(f"/roadmap/plans/{plan_id}/audit", headers=token_for("viewer"))
    assert response.status_code == 200, response.text
    return [event["action"] for event in response.json()]


async def test_a_promoted_run_is_a_draft_with_its_phases_assignments_and_inputs(plan, client, token_for):
    assert plan["status"] == "draft" and plan["name"] == "Q3 plan" and plan["resultStatus"] == "optimal"
    assert [(p["key"], p["budget"], p["spend"], p["decision"]) for p in plan["phases"]] == [
        ("improve", 300000.0, 250000.0, None),
        ("perfection", 250000.0, 90000.0, None),
    ]
    assert {"idea": "I-improve-1", "phase": "improve"} in plan["assignments"] and len(plan["assignments"]) == 4
    assert plan["inputFingerprint"] == "sha256:run-input"
    assert plan["solver"] == {"name": "highs", "version": "1.11.0"}
    read = await client.get(f"/roadmap/plans/{plan['id']}", headers=token_for("delivery"))
    assert read.status_code == 200 and read.json() == plan

    [created] = (await client.get(f"/roadmap/plans/{plan['id']}/audit", headers=token_for("viewer"))).json()
    assert created["action"] == "created" and created["actor"] == "tester@example.com"
    assert created["actorRole"] == EDITOR and created["inputFingerprint"] == "sha256:run-input"
    assert created["solver"] == "highs 1.11.0" and created["detail"]["name"] == "Q3 plan"


async def test_a_feasible_result_can_be_promoted_and_the_solver_falls_back_to_the_result(client, token_for, conn):
    _, run_id = await insert_run(conn, result=result_document(status="feasible"))
    await conn.execute("UPDATE roadmap.runs SET solver_name = NULL, solver_version = NULL WHERE id = $1", run_id)
    response = await promote(client, token_for, run_id, role="admin")
    assert response.status_code == 201, response.text
    assert response.json()["resultStatus"] == "feasible" and response.json()["solver"]["name"] == "highs"


@pytest.mark.parametrize(
    ("status", "result"),
    [("running", None), ("failed", None), ("succeeded", result_document(status="infeasible"))],
)
async def test_only_a_succeeded_run_that_found_a_plan_can_be_promoted(client, token_for, conn, status, result):
    _, run_id = await insert_run(conn, status=status, result=result)
    response = await promote(client, token_for, run_id)
    assert response.status_code == 409, response.text
    assert response.json()["type"].endswith("/conflict")
    assert await conn.fetchval("SELECT count(*) FROM roadmap.plans WHERE run_id = $1", run_id) == 0


async def test_promoting_a_run_that_does_not_exist_is_404(client, token_for):
    response = await promote(client, token_for, uuid.uuid4())
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("body", "field"), [({"name": "   "}, "name"), ({"name": 7}, "name"), ({"name": "Q3", "colour": "red"}, "colour")]
)
async def test_a_bad_plan_body_names_the_field(client, token_for, conn, body, field):
    _, run_id = await insert_run(conn)
    response = await client.post(f"/roadmap/runs/{run_id}/plans", json=body, headers=token_for(EDITOR))
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_a_missing_field_is_422_and_named_in_the_message(submitted, client, token_for):
    url = f"/roadmap/plans/{submitted['id']}/phases/improve/decision"
    response = await client.post(url, json={"decision": "approve"}, headers=token_for("leader", subject=LEADERS[0]))
    assert response.status_code == 422 and "`comment`" in response.json()["detail"]


async def test_approving_every_phase_approves_the_plan_with_a_full_audit_trail(submitted, client, token_for):
    plan_id = submitted["id"]
    assert submitted["status"] == "submitted"
    first = await decide(client, token_for, plan_id, "improve", "approve", comment="within budget")
    assert first.status_code == 200 and first.json()["status"] == "submitted"
    assert first.json()["phases"][0]["decision"]["decision"] == "approved"
    assert first.json()["phases"][0]["decision"]["comment"] == "within budget"
    assert first.json()["phases"][1]["decision"] is None
    last = await decide(client, token_for, plan_id, "perfection", "approve", subject="other-lead@example.com")
    assert last.status_code == 200 and last.json()["status"] == "approved"
    assert last.json()["phases"][1]["decision"]["decidedBy"] == "other-lead@example.com"

    trail = (await client.get(f"/roadmap/plans/{plan_id}/audit", headers=token_for("viewer"))).json()
    assert [event["action"] for event in trail] == [
        "created",
        "submitted",
        "phase_approved",
        "phase_approved",
        "approved",
    ]
    assert [event["actorRole"] for event in trail] == [EDITOR, EDITOR, "leader", "leader", "leader"]
    assert trail[2]["detail"] == {"phase": "improve", "comment": "within budget"}
    assert [event["at"] for event in trail] == sorted(event["at"] for event in trail)
    assert {(event["inputFingerprint"], event["solver"]) for event in trail} == {("sha256:run-input", "highs 1.11.0")}


async def test_a_rejected_phase_asks_for_changes_and_the_plan_stays_under_review(submitted, client, token_for):
    plan_id = submitted["id"]
    asked = await decide(client, token_for, plan_id, "perfection", "reject", comment="cut personal data work")
    assert asked.status_code == 200 and asked.json()["status"] == "submitted"
    decision = asked.json()["phases"][1]["decision"]
    assert decision["decision"] == "changes_requested" and decision["comment"] == "cut personal data work"
    other = await decide(client, token_for, plan_id, "improve", "approve")
    assert other.status_code == 200 and other.json()["status"] == "submitted"
    assert await audit_actions(client, token_for, plan_id) == [
        "created", "submitted", "phase_changes_requested", "phase_approved"
    ]  # fmt: skip


async def test_transitions_the_state_forbids_are_409(plan, client, token_for):
    plan_id = plan["id"]
    early = await decide(client, token_for, plan_id, "improve", "approve")
    assert early.status_code == 409 and "draft" in early.json()["detail"]
    assert (await client.post(f"/roadmap/plans/{plan_id}/submit", headers=token_for(EDITOR))).status_code == 200
    again = await client.post(f"/roadmap/plans/{plan_id}/submit", headers=token_for("admin"))
    assert again.status_code == 409 and again.json()["type"].endswith("/conflict")
    assert (await decide(client, token_for, plan_id, "improve", "approve")).status_code == 200
    twice = await decide(client, token_for, plan_id, "improve", "reject")
    assert twice.status_code == 409 and "stands" in twice.json()["detail"]
    assert await audit_actions(client, token_for, plan_id) == ["created", "submitted", "phase_approved"]


@pytest.mark.parametrize(
    ("phase", "body", "field"),
    [
        ("discovery", {"decision": "approve", "comment": "not in this run"}, "phase"),
        ("someday", {"decision": "approve", "comment": "no such phase"}, "phase"),
        ("improve", {"decision": "maybe", "comment": "hmm"}, "decision"),
        ("improve", {"decision": "approve", "comment": "  "}, "comment"),
        ("improve", {"decision": "approve", "comment": "x" * 4001}, "comment"),
    ],
)
async def test_bad_decisions_name_the_field(submitted, client, token_for, conn, phase, body, field):
    response = await client.post(
        f"/roadmap/plans/{submitted['id']}/phases/{phase}/decision",
        json=body,
        headers=token_for("leader", subject=LEADERS[0]),
    )
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]
    decided = "SELECT count(*) FROM roadmap.phase_decisions WHERE plan_id = $1"
    assert await conn.fetchval(decided, uuid.UUID(submitted["id"])) == 0


async def test_an_unknown_phase_and_a_blank_comment_are_both_named(submitted, client, token_for):
    response = await client.post(
        f"/roadmap/plans/{submitted['id']}/phases/someday/decision",
        json={"decision": "approve", "comment": ""},
        headers=token_for("leader", subject=LEADERS[0]),
    )
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["phase", "comment"]


async def test_an_approved_plan_is_immutable_and_locks_its_scenario(submitted, client, token_for, conn):
    plan_id = submitted["id"]
    assert not await plans_service.scenario_is_locked(conn, uuid.UUID(submitted["scenarioId"]))
    await decide(client, token_for, plan_id, "improve", "approve")
    await decide(client, token_for, plan_id, "perfection", "approve")
    assert (await client.post(f"/roadmap/plans/{plan_id}/submit", headers=token_for(EDITOR))).status_code == 409
    for phase, decision in (("improve", "reject"), ("perfection", "approve"), ("someday", "approve")):
        assert (await decide(client, token_for, plan_id, phase, decision)).status_code == 409
    assert await plans_service.scenario_is_locked(conn, uuid.UUID(submitted["scenarioId"]))
    assert not await plans_service.scenario_is_locked(conn, uuid.uuid4())


async def approve_all(client, token_for, plan_id):
    await client.post(f"/roadmap/plans/{plan_id}/submit", headers=token_for(EDITOR))
    for phase in ("improve", "perfection"):
        response = await decide(client, token_for, plan_id, phase, "approve")
        assert response.status_code == 200, response.text
    return response.json()


async def test_approving_a_plan_supersedes_the_portfolios_approved_plan(client, token_for, conn):
    portfolio = uuid.uuid4()
    old_scenario, old_run = await insert_run(conn, portfolio_id=portfolio)
    _, new_run = await insert_run(conn, portfolio_id=portfolio)
    _, elsewhere_run = await insert_run(conn)
    old = await approve_all(client, token_for, (await promote(client, token_for, old_run)).json()["id"])
    elsewhere = await approve_all(client, token_for, (await promote(client, token_for, elsewhere_run)).json()["id"])
    new = await approve_all(client, token_for, (await promote(client, token_for, new_run)).json()["id"])
    assert new["status"] == "approved"

    retired = (await client.get(f"/roadmap/plans/{old['id']}", headers=token_for("viewer"))).json()
    assert retired["status"] == "superseded"
    trail = (await client.get(f"/roadmap/plans/{old['id']}/audit", headers=token_for("viewer"))).json()
    assert trail[-1]["action"] == "superseded" and trail[-1]["detail"] == {"byPlan": new["id"]}
    assert trail[-1]["actorRole"] == "leader"
    other = (await client.get(f"/roadmap/plans/{elsewhere['id']}", headers=token_for("viewer"))).json()
    assert other["status"] == "approved"  # another portfolio's plan is untouched
    assert not await plans_service.scenario_is_locked(conn, old_scenario)
    # A superseded plan moves no further.
    assert (await client.post(f"/roadmap/plans/{old['id']}/submit", headers=token_for(EDITOR))).status_code == 409


async def test_list_filters_by_portfolio_and_status_and_pages_newest_first(client, token_for, conn):
    portfolio = uuid.uuid4()
    ids = []
    for name in ("first", "second", "third"):
        _, run_id = await insert_run(conn, portfolio_id=portfolio)
        ids.append((await promote(client, token_for, run_id, name=name)).json()["id"])
    await insert_run(conn)  # another portfolio's run, never promoted
    await client.post(f"/roadmap/plans/{ids[0]}/submit", headers=token_for(EDITOR))

    url = "/roadmap/plans"
    every = await client.get(url, params={"portfolioId": str(portfolio)}, headers=token_for("viewer"))
    assert [item["name"] for item in every.json()["items"]] == ["third", "second", "first"]
    drafts = await client.get(
        url, params={"portfolioId": str(portfolio), "status": "draft"}, headers=token_for("viewer")
    )
    assert drafts.json()["total"] == 2
    page = await client.get(
        url, params={"portfolioId": str(portfolio), "page": 2, "pageSize": 2}, headers=token_for("delivery")
    )
    assert [item["name"] for item in page.json()["items"]] == ["first"]
    assert (
        page.json()["total"] == 3 and page.json()["pageSize"] == 2 and page.json()["items"][0]["status"] == "submitted"
    )
    bad = await client.get(url, params={"status": "pending"}, headers=token_for("viewer"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.status"
    bad_id = await client.get(url, params={"portfolioId": "nope"}, headers=token_for("viewer"))
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"] == "query.portfolioId"


async def test_what_does_not_exist_is_404(client, token_for):
    missing = uuid.uuid4()
    for response in (
        await client.get(f"/roadmap/plans/{missing}", headers=token_for("viewer")),
        await client.get(f"/roadmap/plans/{missing}/audit", headers=token_for("viewer")),
        await client.post(f"/roadmap/plans/{missing}/submit", headers=token_for(EDITOR)),
        await decide(client, token_for, missing, "improve", "approve"),
    ):
        assert response.status_code == 404 and response.json()["type"].endswith("/not-found")


async def test_roles(client, token_for, member_of, conn, plan):
    portfolio = plan["portfolioId"]
    _, run_id = await insert_run(conn, portfolio_id=uuid.UUID(portfolio))
    members = {role: await member_of(portfolio, role) for role in ("viewer", "stakeholder", "delivery", "leader")}
    for role in ("viewer", "stakeholder", "delivery", "leader"):
        response = await client.post(f"/roadmap/runs/{run_id}/plans", json={"name": "x"}, headers=members[role])
        assert response.status_code == 403, role
        response = await client.post(f"/roadmap/plans/{plan['id']}/submit", headers=members[role])
        assert response.status_code == 403 and response.json()["type"].endswith("/forbidden")
    admin = token_for("admin", subject="admin@example.com")
    assert (await client.post(f"/roadmap/plans/{plan['id']}/submit", headers=admin)).status_code == 200
    # The creator cannot decide as a programme manager, nor could they as a leader (four eyes);
    # the admin who submitted it cannot either; a viewer or delivery member has no such right.
    for headers in (token_for(EDITOR), admin, members["delivery"], members["viewer"]):
        response = await client.post(
            f"/roadmap/plans/{plan['id']}/phases/improve/decision",
            json={"decision": "approve", "comment": "ok"},
            headers=headers,
        )
        assert response.status_code == 403
    for headers in (*members.values(), token_for(EDITOR), admin):
        listed = await client.get("/roadmap/plans", params={"portfolioId": portfolio}, headers=headers)
        assert listed.status_code == 200 and plan["id"] in [item["id"] for item in listed.json()["items"]]
    assert (await client.get(f"/roadmap/plans/{plan['id']}")).status_code == 401


# --- concurrency: real transactions on separate connections --------------------------------


class Live:
    """The app on a pool of its own, so each request commits on its own connection."""

    def __init__(self, http: httpx.AsyncClient, pool: asyncpg.Pool, portfolio: uuid.UUID) -> None:
        self.http, self.pool, self.portfolio = http, pool, portfolio


@pytest.fixture
async def live(settings):
    source = await PoolSource.open(settings)
    app = create_single_process_app(settings, source=source)
    portfolio = uuid.uuid4()  # everything this test commits hangs off it, so cleaning up is exact
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            yield Live(http, source.pool, portfolio)
    finally:
        async with source.pool.acquire() as conn:
            await drop_portfolio(conn, portfolio)
        await source.close()


async def live_plan(live: Live, token_for, *, approve: tuple[str, ...] = ()) -> str:
    """A committed, submitted two-phase plan of the live portfolio with `approve` already approved."""
    async with live.pool.acquire() as conn:
        _, run_id = await insert_run(conn, portfolio_id=live.portfolio)
    plan_id = (await promote(live.http, token_for, run_id)).json()["id"]
    assert (await live.http.post(f"/roadmap/plans/{plan_id}/submit", headers=token_for(EDITOR))).status_code == 200
    for phase in approve:
        assert (await decide(live.http, token_for, plan_id, phase, "approve")).status_code == 200
    return plan_id


def row_lock(plan_id: str):
    async def hold(blocker: asyncpg.Connection) -> None:
        await blocker.execute("SELECT 1 FROM roadmap.plans WHERE id = $1 FOR UPDATE", uuid.UUID(plan_id))

    return hold


async def race(settings, hold, *requests, release: str = "rollback"):
    """Start `requests` while another transaction holds the locks `hold` takes, wait until all
    of them are queued behind it, then end it: the requests run as close together as they can."""
    blocker = await asyncpg.connect(settings.database_url)
    transaction = blocker.transaction()
    await transaction.start()
    await hold(blocker)
    tasks = [asyncio.create_task(request) for request in requests]
    try:
        for _ in range(1000):
            # Statistics views are a snapshot per transaction unless it is cleared.
            await blocker.execute("SELECT pg_stat_clear_snapshot()")
            waiting = await blocker.fetchval(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
                """
            )
            if waiting >= len(tasks):
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the requests never queued behind the lock")
    finally:
        await (transaction.commit() if release == "commit" else transaction.rollback())
        await blocker.close()
    return await asyncio.gather(*tasks)


async def stored(live: Live, plan_id: str):
    async with live.pool.acquire() as conn:
        status = await conn.fetchval("SELECT status FROM roadmap.plans WHERE id = $1", uuid.UUID(plan_id))
        rows = await conn.fetch(
            "SELECT phase, decision FROM roadmap.phase_decisions WHERE plan_id = $1", uuid.UUID(plan_id)
        )
        actions = await conn.fetch(
            "SELECT action FROM roadmap.audit_events WHERE plan_id = $1 ORDER BY id", uuid.UUID(plan_id)
        )
    return status, {row["phase"]: row["decision"] for row in rows}, [row["action"] for row in actions]


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (("improve", "approve"), ("perfection", "approve"), {"improve": "approved", "perfection": "approved"}),
        (("improve", "approve"), ("perfection", "reject"), {"improve": "approved", "perfection": "changes_requested"}),
        (("improve", "approve"), ("improve", "reject"), {"improve": "approved"}),
    ],
    ids=["both-approve", "approve-and-reject", "same-phase"],
)
async def test_two_leaders_deciding_at_once_leave_the_plan_consistent(
    live, settings, token_for, first, second, expected
):
    plan_id = await live_plan(live, token_for)
    responses = await race(
        settings,
        row_lock(plan_id),
        decide(live.http, token_for, plan_id, *first, subject="lead-1@example.com"),
        decide(live.http, token_for, plan_id, *second, subject="lead-2@example.com"),
    )
    codes = sorted(response.status_code for response in responses)
    assert set(codes) <= {200, 409}, [response.text for response in responses]
    status, decisions, actions = await stored(live, plan_id)

    # The status is the one the decisions imply, every successful request made exactly one
    # phase event, and the plan was approved at most once. On one phase, whichever came first,
    # the approval stands: a request for changes after it is refused, one before it is replaced.
    assert plans_domain.consistent(status, ("improve", "perfection"), decisions)
    assert actions[:2] == ["created", "submitted"]
    assert len([action for action in actions if action.startswith("phase_")]) == codes.count(200)
    assert actions.count("approved") == (status == "approved")
    assert decisions == expected
    assert status == ("approved" if set(expected.values()) == {"approved"} and len(expected) == 2 else "submitted")


async def test_two_plans_of_a_portfolio_approved_at_once_supersede_in_turn(live, settings, token_for):
    standing = await live_plan(live, token_for, approve=("improve", "perfection"))
    one = await live_plan(live, token_for, approve=("improve",))
    two = await live_plan(live, token_for, approve=("improve",))
    # Holding the standing plan makes both approvals wait where they look for it.
    responses = await race(
        settings,
        row_lock(standing),
        decide(live.http, token_for, one, "perfection", "approve"),
        decide(live.http, token_for, two, "perfection", "approve"),
    )
    assert [response.status_code for response in responses] == [200, 200], [response.text for response in responses]
    statuses = {plan: (await stored(live, plan))[0] for plan in (standing, one, two)}
    assert sorted(statuses.values()) == ["approved", "superseded", "superseded"]
    assert statuses[standing] == "superseded"
    winner = next(plan for plan, status in statuses.items() if status == "approved")
    loser = one if winner == two else two
    _, _, loser_actions = await stored(live, loser)
    assert loser_actions[-2:] == ["approved", "superseded"]


async def test_an_approval_waits_for_a_scenario_edit_that_checked_the_lock(live, settings, token_for):
    plan_id = await live_plan(live, token_for, approve=("improve",))
    async with live.pool.acquire() as conn:
        scenario = await conn.fetchval("SELECT scenario_id FROM roadmap.plans WHERE id = $1", uuid.UUID(plan_id))
    seen: list[bool] = []

    async def edit_scenario(blocker: asyncpg.Connection) -> None:
        # What the scenario service does before an edit: ask, then change the row.
        seen.append(await plans_service.scenario_is_locked(blocker, scenario))
        await blocker.execute("UPDATE roadmap.scenarios SET revision = revision + 1 WHERE id = $1", scenario)

    [approval] = await race(
        settings, edit_scenario, decide(live.http, token_for, plan_id, "perfection", "approve"), release="commit"
    )
    # The approval queued behind the edit and went through after it; from then on, edits are refused.
    assert seen == [False] and approval.status_code == 200 and approval.json()["status"] == "approved"
    async with live.pool.acquire() as conn, conn.transaction():
        assert await plans_service.scenario_is_locked(conn, scenario)
