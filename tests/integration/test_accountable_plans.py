"""Owners, KPIs and quick wins through to runs and plans, solved for real by the job worker.

This test uses a database of its own, because the worker must see committed rows.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import msgspec
import pytest

from services.kit import migrate
from services.kit.db import PoolSource
from services.single_process import create_single_process_app

pytestmark = pytest.mark.integration

EDITOR = "programme_manager"
ANN = {"subject": "ann", "name": "Ann Lee", "email": "ann@bank.example", "department": "Cards"}
BOB = {"subject": "bob", "name": "Bob Marsh", "email": None, "department": None}


def kpi(key: str, unit: str, baseline: float, target: float) -> dict:
    direction = "increase" if target >= baseline else "decrease"
    return {
        "key": key,
        "name": key.upper(),
        "unit": unit,
        "direction": direction,
        "baseline": baseline,
        "target": target,
    }


# ref: (customer impact = the score, effort in days, phases, owner, KPIs)
IDEAS = {
    "W-1": (9, 2, ["improve", "perfection"], ANN, [kpi("nps", "points", 30, 40)]),
    "W-2": (8, 10, ["improve", "perfection"], BOB, [kpi("nps", "points", 30, 35), kpi("calls", "calls", 1000, 800)]),
    "W-3": (2, 1, ["improve"], None, []),
    "W-4": (3, 20, ["improve", "perfection"], ANN, [kpi("nps", "percent", 20, 22)]),
    "W-5": (7, 3, ["improve"], BOB, [kpi("calls", "calls", 500, 450)]),
}
# Scores 9 8 2 3 7 -> median 7; efforts 2 10 1 20 3 -> median 3. So W-1 (9, 2) and W-5 (7, 3)
# are quick wins, W-2 a major project, W-3 a fill-in, W-4 a money pit.


@pytest.fixture(scope="module")
def own_database_url(make_database) -> str:
    url = make_database("accountable")
    migrate.upgrade(url)
    return url


async def poll(http: httpx.AsyncClient, run_id: str, headers) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = (await http.get(f"/roadmap/runs/{run_id}", headers=headers)).json()
        if run["status"] in ("succeeded", "failed"):
            return run
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish: {run}")


async def test_quick_wins_only_owners_and_kpis_from_scenario_to_plan(settings, own_database_url, token_for):
    own = msgspec.structs.replace(settings, database_url=own_database_url)
    source = await PoolSource.open(own)
    app = create_single_process_app(own, source=source)
    headers = token_for(EDITOR)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            portfolio = (await http.post("/scoring/portfolios", json={"name": "Accountable"}, headers=headers)).json()
            base = f"/scoring/portfolios/{portfolio['id']}"
            ideas = [
                {"ref": ref, "title": f"Idea {ref}", "phases": phases, "owner": owner, "kpis": kpis,
                 "journey": {"persona": "Retiree", "journeyStage": "support"},
                 "estimates": {"customerImpact": impact, "effort": {"web": effort}, "cost": 10_000}}
                for ref, (impact, effort, phases, owner, kpis) in IDEAS.items()
            ]  # fmt: skip
            assert (await http.post(f"{base}/ideas/bulk", json={"ideas": ideas}, headers=headers)).status_code == 201
            definition = {"kind": "weighted", "criteria": [{"field": "customer_impact", "weight": 1}]}
            model = (
                await http.post(f"{base}/models", json={"name": "Impact", "definition": definition}, headers=headers)
            ).json()

            async def scenario_and_run(name: str, **extra) -> tuple[dict, dict, dict]:
                body = {
                    "name": name, "portfolioId": portfolio["id"], "modelId": model["id"],
                    "phases": [{"key": "improve", "budget": 100_000}, {"key": "perfection", "budget": 100_000}],
                    "objective": {"phaseDiscount": {"improve": 1, "perfection": 0.5}}, "solver": {"timeLimitSeconds": 20},
                    **extra,
                }  # fmt: skip
                scenario = await http.post("/roadmap/scenarios", json=body, headers=headers)
                assert scenario.status_code == 201, scenario.text
                started = await http.post(f"/roadmap/scenarios/{scenario.json()['id']}/runs", json={}, headers=headers)
                run = await poll(http, started.json()["id"], headers)
                assert run["status"] == "succeeded", run
                result = (await http.get(f"/roadmap/runs/{run['id']}/result", headers=headers)).json()
                return scenario.json(), run, result

            free, free_run, free_result = await scenario_and_run("Anything anywhere")
            assert {a["idea"]: a["phase"] for a in free_result["assignments"]} == {
                "W-1": "improve", "W-2": "improve", "W-3": "improve", "W-4": "improve", "W-5": "improve",
            }  # fmt: skip
            # The scenario's answer warns about the plannable ideas nobody owns or measures.
            assert [(w["kind"], w["ideas"]) for w in free["warnings"]] == [("noOwner", ["W-3"]), ("noKpis", ["W-3"])]

            quick, quick_run, quick_result = await scenario_and_run("Quick wins first", quickWinsOnly=["improve"])
            assert quick["source"]["quickWinsOnly"] == ["improve"]
            # Improve is for quick wins only: the others move to Perfection, or out if they have nowhere to go.
            assert {a["idea"]: a["phase"] for a in quick_result["assignments"]} == {
                "W-1": "improve", "W-5": "improve", "W-2": "perfection", "W-4": "perfection",
            }  # fmt: skip
            assert "W-3" in {item["idea"] for item in quick_result["leftOut"]}
            assert quick["warnings"] == []  # W-3 cannot be planned any more
            first = next(a for a in quick_result["assignments"] if a["idea"] == "W-1")
            assert first == {
                "idea": "W-1", "phase": "improve", "ref": "W-1", "title": "Idea W-1", "owner": ANN, "persona": "Retiree",
                "journeyStage": "support", "cost": 10_000.0, "value": 9.0, "kpis": IDEAS["W-1"][4], "quadrant": "quickWin",
            }  # fmt: skip

            compared = await http.get(
                "/roadmap/runs/compare", params={"ids": [free_run["id"], quick_run["id"]]}, headers=headers
            )
            assert compared.status_code == 200, compared.text
            rows = {row["ref"]: row for row in compared.json()["ideas"]}
            assert sorted(rows) == ["W-2", "W-3", "W-4"]  # moved twice, removed once
            assert (
                rows["W-2"]["owner"] == BOB and rows["W-3"]["owner"] is None and rows["W-4"]["quadrant"] == "moneyPit"
            )

            plan = await http.post(
                f"/roadmap/runs/{quick_run['id']}/plans", json={"name": "Quick wins"}, headers=headers
            )
            assert plan.status_code == 201, plan.text
            read = (await http.get(f"/roadmap/plans/{plan.json()['id']}", headers=headers)).json()
            assignments = {a["idea"]: a for a in read["assignments"]}
            assert assignments["W-2"]["title"] == "Idea W-2" and assignments["W-2"]["owner"] == BOB
            assert assignments["W-2"]["value"] == 8 and assignments["W-2"]["cost"] == 10_000
            phases = {phase["key"]: phase["kpis"] for phase in read["phases"]}
            assert phases["improve"] == [
                {"key": "calls", "name": "CALLS", "direction": "decrease", "units": ["calls"], "ideas": 1, "withTarget": 1, "targetedChange": -50.0},
                {"key": "nps", "name": "NPS", "direction": "increase", "units": ["points"], "ideas": 1, "withTarget": 1, "targetedChange": 10.0},
            ]  # fmt: skip
            # In Perfection NPS is measured in points by one idea and in percent by another: no sum.
            assert phases["perfection"] == [
                {"key": "calls", "name": "CALLS", "direction": "decrease", "units": ["calls"], "ideas": 1, "withTarget": 1, "targetedChange": -200.0},
                {"key": "nps", "name": "NPS", "direction": "increase", "units": ["percent", "points"], "ideas": 2, "withTarget": 2, "targetedChange": None},
            ]  # fmt: skip

            bad = await http.post(
                "/roadmap/scenarios",
                json={"name": "x", "portfolioId": portfolio["id"], "modelId": model["id"],
                      "phases": [{"key": "improve", "budget": 1}], "quickWinsOnly": ["perfection"]},
                headers=headers,
            )  # fmt: skip
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quickWinsOnly[0]"
    await source.close()
