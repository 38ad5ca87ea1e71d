"""Delivery teaches the estimates: actuals, KPI measurements, the calibration report against
figures computed by hand, and a scenario whose estimates are calibrated against one whose are not.

Hand-computed (actual / estimated):
  A (Lending, lead web):  cost 1500/1000 = 1.5, web 12/10 = 1.2; KPIs nps reached (latest), calls missed
  B (Lending, lead web):  cost 2000/2000 = 1.0, web 30/20 = 1.5, data 5/5 = 1.0; its KPI has no target
  C (Cards, lead data):   cost 3000/4000 = 0.75, data 20/10 = 2.0; KPI nps reached
  D: nothing delivered yet.
Teams: web effort [1.2, 1.5] -> median 1.35, IQR 1.425 - 1.275 = 0.15; web cost (lead of A, B)
[1.5, 1.0] -> 1.25, IQR 0.25; data effort [1.0, 2.0] -> 1.5, IQR 0.5; data cost [0.75].
Departments: Lending cost [1.5, 1.0] -> 1.25; effort totals 12/10 = 1.2 and 35/25 = 1.4 -> 1.3,
IQR 0.1; Cards cost 0.75, effort 2.0. KPI targets: 2 of 3 reached.
"""

from __future__ import annotations

import msgspec
import pytest
from roadmap_fixtures import EDITOR, scenario_body
from test_jira_push import single_process, wait_for

from services.kit import migrate

pytestmark = pytest.mark.integration

ESTIMATES = {
    "A": ({"web": 10}, 1000, "Lending"),
    "B": ({"web": 20, "data": 5}, 2000, "Lending"),
    "C": ({"data": 10}, 4000, "Cards"),
    "D": ({"ops": 3}, 500, "Cards"),
}
ACTUALS = {"A": {"cost": 1500, "effort": {"web": 12}, "trackedHours": 96.5},
           "B": {"cost": 2000, "effort": {"web": 30, "data": 5}},
           "C": {"cost": 3000, "effort": {"data": 20}}}  # fmt: skip
MEASUREMENTS = [
    ("A", "nps", {"value": 35, "date": "2027-01-01", "target": 40}),
    ("A", "nps", {"value": 42, "date": "2027-03-01", "target": 40}),
    ("A", "calls", {"value": 120, "date": "2027-03-01", "target": 100, "higherIsBetter": False}),
    ("B", "adoption", {"value": 0.4, "date": "2027-03-01"}),
    ("C", "nps", {"value": 12, "date": "2027-02-01", "target": 10}),
]


async def delivered_portfolio(http, token_for) -> tuple[str, str]:
    editor = token_for(EDITOR)
    portfolio = (await http.post("/scoring/portfolios", json={"name": "Delivered"}, headers=editor)).json()
    base = f"/scoring/portfolios/{portfolio['id']}"
    ideas = [{"ref": ref, "title": f"Idea {ref}", "journey": {"department": department}, "phases": ["improve"],
              "estimates": {"reach": 1000, "customerImpact": 5, "confidence": 0.8, "effort": effort, "cost": cost}}
             for ref, (effort, cost, department) in ESTIMATES.items()]  # fmt: skip
    assert (await http.post(f"{base}/ideas/bulk", json={"ideas": ideas}, headers=editor)).status_code == 201
    delivery = await member(http, token_for, portfolio["id"], "delivery")
    for ref, body in ACTUALS.items():
        response = await http.put(f"{base}/ideas/{ref}/actuals", json=body, headers=delivery)
        assert response.status_code == 200, response.text
    for ref, key, body in MEASUREMENTS:
        response = await http.post(f"{base}/ideas/{ref}/kpis/{key}/measurements", json=body, headers=delivery)
        assert response.status_code == 201, response.text
    model = await http.post(f"{base}/models", json={"name": "RICE", "definition": {"kind": "rice"}}, headers=editor)
    return portfolio["id"], model.json()["id"]


async def member(http, token_for, portfolio_id: str, role: str) -> dict[str, str]:
    subject = f"{role}@example.com"
    response = await http.put(f"/scoring/portfolios/{portfolio_id}/members/{subject}", json={"roles": [role]},
                              headers=token_for("admin", subject="admin@example.com"))  # fmt: skip
    assert response.status_code == 200, response.text
    return token_for(role, subject=subject)


def figures(median, spread, count) -> dict:
    return {"median": median, "spread": spread, "count": count}


async def test_the_calibration_report_matches_the_hand_computed_figures(client, token_for):
    portfolio_id, _ = await delivered_portfolio(client, token_for)
    base = f"/scoring/portfolios/{portfolio_id}"
    viewer = await member(client, token_for, portfolio_id, "viewer")
    report = (await client.get(f"{base}/calibration", headers=viewer)).json()
    assert report == {
        "ideas": 3,
        "teams": [
            {"key": "data", "ideas": 2, "cost": figures(0.75, 0.0, 1), "effort": figures(1.5, 0.5, 2),
             "kpiTargets": {"measured": 1, "reached": 1, "share": 1.0}},
            {"key": "web", "ideas": 2, "cost": figures(1.25, 0.25, 2), "effort": figures(1.35, 0.15, 2),
             "kpiTargets": {"measured": 2, "reached": 1, "share": 0.5}},
        ],
        "departments": [
            {"key": "Cards", "ideas": 1, "cost": figures(0.75, 0.0, 1), "effort": figures(2.0, 0.0, 1),
             "kpiTargets": {"measured": 1, "reached": 1, "share": 1.0}},
            {"key": "Lending", "ideas": 2, "cost": figures(1.25, 0.25, 2), "effort": figures(1.3, 0.1, 2),
             "kpiTargets": {"measured": 2, "reached": 1, "share": 0.5}},
        ],
        "kpiTargets": {"measured": 3, "reached": 2, "share": 0.6667},
        "deliveredVia": {"jira": 0, "manual": 3},  # none of them pushed to Jira
    }  # fmt: skip

    actuals = (await client.get(f"{base}/ideas/A/actuals", headers=viewer)).json()
    assert (actuals["cost"], actuals["effort"], actuals["trackedHours"]) == (1500, {"web": 12}, 96.5)
    nps = (await client.get(f"{base}/ideas/A/kpis/nps/measurements", headers=viewer)).json()
    assert [(m["date"], m["value"], m["reached"]) for m in nps] == [("2027-01-01", 35, False), ("2027-03-01", 42, True)]
    assert (await client.get(f"{base}/ideas/D/actuals", headers=viewer)).status_code == 404


async def test_bad_actuals_and_measurements_are_refused_naming_the_field(client, token_for):
    portfolio_id, _ = await delivered_portfolio(client, token_for)
    base = f"/scoring/portfolios/{portfolio_id}"
    delivery = await member(client, token_for, portfolio_id, "delivery")
    cases = [
        ("put", f"{base}/ideas/D/actuals", {"cost": -1}, "cost"),
        ("put", f"{base}/ideas/D/actuals", {"effort": {"web": "a lot"}}, "effort"),
        ("put", f"{base}/ideas/D/actuals", {}, "body"),
        ("post", f"{base}/ideas/D/kpis/nps/measurements", {"value": 1, "date": "yesterday"}, "date"),
        ("post", f"{base}/ideas/D/kpis/nps/measurements", {"date": "2027-01-01"}, "value"),
        ("post", f"{base}/ideas/D/kpis/n%20p%20s/measurements", {"value": 1, "date": "2027-01-01"}, "key"),
    ]
    for method, url, body, field in cases:
        response = await client.request(method.upper(), url, json=body, headers=delivery)
        assert response.status_code in (400, 422), (url, body, response.text)
        assert any(problem["field"].startswith(field) for problem in response.json()["errors"]), response.text
    assert (await client.put(f"{base}/ideas/NOPE/actuals", json={"cost": 1}, headers=delivery)).status_code == 404
    viewer = await member(client, token_for, portfolio_id, "viewer")
    assert (await client.put(f"{base}/ideas/D/actuals", json={"cost": 1}, headers=viewer)).status_code == 403
    assert (await client.get(f"{base}/ideas/D/actuals", headers=viewer)).status_code == 404  # still none


@pytest.fixture(scope="module")
def calibration_database_url(make_database) -> str:
    url = make_database("calibration")
    migrate.upgrade(url)
    return url


async def test_a_run_with_calibrated_estimates_against_one_without(settings, calibration_database_url, token_for):
    app_settings = msgspec.structs.replace(settings, database_url=calibration_database_url, job_retry_after_seconds=2.0)
    async with single_process(app_settings) as http:
        editor, viewer = token_for(EDITOR), token_for("admin", subject="admin@example.com")
        portfolio_id, model_id = await delivered_portfolio(http, token_for)
        scored = {"portfolioId": portfolio_id, "modelId": model_id}
        teams = [{"key": "web", "capacity": {"improve": 1000}}, {"key": "data", "capacity": {"improve": 1000}}]
        phases = [{"key": "improve", "budget": 3500}]
        runs, documents = {}, {}
        for calibration in ("none", "apply"):
            body = scenario_body(scored, name=calibration, phases=phases, teams=teams, calibration=calibration)
            scenario = await http.post("/roadmap/scenarios", json=body, headers=editor)
            assert scenario.status_code == 201, scenario.text
            if calibration == "apply":
                assert scenario.json()["calibration"]["factors"] == {"cost": {"data": 0.75, "web": 1.25},
                                                                     "effort": {"data": 1.5, "web": 1.35}}  # fmt: skip
                assert [i["idea"] for i in scenario.json()["calibration"]["ideas"]] == ["A", "B", "C"]
            else:
                assert scenario.json()["calibration"] is None
            document = (await http.get(f"/roadmap/scenarios/{scenario.json()['id']}/document", headers=editor)).json()
            documents[calibration] = {idea["id"]: (idea["cost"], idea.get("effort", {})) for idea in document["ideas"]}
            run = (await http.post(f"/roadmap/scenarios/{scenario.json()['id']}/runs", json={}, headers=editor)).json()
            runs[calibration] = await wait_for(
                http, f"/roadmap/runs/{run['id']}", viewer, until={"succeeded", "failed"}
            )
        assert documents["none"] == {"A": (1000, {"web": 10}), "B": (2000, {"web": 20, "data": 5}),
                                     "C": (4000, {"data": 10}), "D": (500, {})}  # fmt: skip
        assert documents["apply"] == {"A": (1250, {"web": 13.5}), "B": (2500, {"web": 27, "data": 7.5}),
                                      "C": (3000, {"data": 15}), "D": (500, {})}  # fmt: skip
        compared = await http.get("/roadmap/runs/compare", params=[("ids", runs["none"]["id"]), ("ids", runs["apply"]["id"])],
                                  headers=viewer)  # fmt: skip
        assert compared.status_code == 200, compared.text
        for calibration, run in runs.items():
            result = (await http.get(f"/roadmap/runs/{run['id']}/result", headers=viewer)).json()
            planned = [a["idea"] for a in result["assignments"]]
            spend = next(p["spend"] for p in result["phases"] if p["key"] == "improve")
            assert spend == sum(documents[calibration][idea][0] for idea in planned) <= 3500, (calibration, result)
        # Calibrated, A and B together no longer fit the budget (1250 + 2500 > 3500): the plans differ.
        plans = {c: {a["idea"] for a in (await http.get(f"/roadmap/runs/{r['id']}/result", headers=viewer)).json()["assignments"]}
                 for c, r in runs.items()}  # fmt: skip
        assert not {"A", "B"} <= plans["apply"]
        assert plans["none"] != plans["apply"], plans
