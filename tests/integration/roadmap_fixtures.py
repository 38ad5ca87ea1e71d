"""Helpers shared by the roadmap tests: a small scored backlog made through the scoring API."""

from __future__ import annotations

EDITOR = "programme_manager"
# A member of every portfolio `scored_portfolio` makes, with the role leader: the subject
# behind `token_for(...)` made the portfolio, so four eyes keep it from deciding its plans.
LEADER = "lead@example.com"

PHASES = [
    {"key": "discovery", "budget": 20_000},
    {"key": "improve", "budget": 50_000},
    {"key": "perfection", "budget": 60_000},
    {"key": "personalization", "budget": 40_000},
]


def backlog_idea(ref: str, *, reach: float, impact: float, cost: float | None, phases: list[str], effort: float = 5):
    estimates = {"reach": reach, "customerImpact": impact, "confidence": 0.8, "effort": {"web": effort}}
    if cost is not None:
        estimates["cost"] = cost
    return {
        "ref": ref,
        "title": f"Idea {ref}",
        "journey": {"persona": "Busy parent", "journeyStage": "onboarding" if ref < "C" else "support"},
        "estimates": estimates,
        "phases": phases,
    }


async def scored_portfolio(client, token_for) -> dict[str, str]:
    """A portfolio of five ideas under a RICE model; B has no cost, E no confidence; LEADER leads it."""
    headers = token_for(EDITOR)
    portfolio = (await client.post("/scoring/portfolios", json={"name": "Journeys"}, headers=headers)).json()
    base = f"/scoring/portfolios/{portfolio['id']}"
    member = await client.put(f"{base}/members/{LEADER}", json={"roles": ["leader"]}, headers=headers)
    assert member.status_code == 200, member.text
    ideas = [
        backlog_idea("A1", reach=1000, impact=5, cost=15_000, phases=["improve"]),
        backlog_idea("A2", reach=2000, impact=4, cost=30_000, phases=["improve", "perfection"]),
        backlog_idea("B", reach=500, impact=3, cost=None, phases=["discovery"]),
        backlog_idea("C", reach=800, impact=6, cost=45_000, phases=["perfection", "personalization"]),
        {**backlog_idea("E", reach=100, impact=2, cost=1000, phases=["discovery"]),
         "estimates": {"reach": 100, "customerImpact": 2, "effort": {"web": 1}, "cost": 1000}},
    ]  # fmt: skip
    response = await client.post(f"{base}/ideas/bulk", json={"ideas": ideas}, headers=headers)
    assert response.status_code == 201, response.text
    model = await client.post(f"{base}/models", json={"name": "RICE", "definition": {"kind": "rice"}}, headers=headers)
    assert model.status_code == 201, model.text
    return {"portfolioId": portfolio["id"], "modelId": model.json()["id"], "base": base}


def scenario_body(scored: dict[str, str], **overrides):
    body = {
        "name": "Q3 plan",
        "portfolioId": scored["portfolioId"],
        "modelId": scored["modelId"],
        "phases": PHASES,
        "teams": [{"key": "web", "capacity": {"improve": 20, "perfection": 20, "personalization": 20}}],
        "solver": {"timeLimitSeconds": 10},
    }
    body.update(overrides)
    return body
