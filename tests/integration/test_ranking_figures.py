"""A ranking's totals and quadrant medians are stored with the scores (issue 14): after every kind
of change to the scores they must equal the same figures worked out afresh from the scores.

The fresh figures are computed here, in Python, from each version's snapshot (every idea's
score, cost and effort), not by the code under test; the stored ones are what a ranking page
shows, in every view, under every version of every model.
"""

from __future__ import annotations

import statistics

import pytest

pytestmark = pytest.mark.integration

EDITOR = "programme_manager"
IMPACT = {"kind": "weighted", "criteria": [{"field": "customer_impact", "weight": 1}]}
BY_COST = {**IMPACT, "quadrants": {"effortField": "cost"}}


def idea(ref: str, impact: float | None, effort: dict[str, float], cost: float | None) -> dict:
    estimates: dict = {"effort": effort}
    if impact is not None:
        estimates["customerImpact"] = impact
    if cost is not None:
        estimates["cost"] = cost
    return {"ref": ref, "title": ref, "estimates": estimates}


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def same(shown: float | None, fresh: float | None) -> bool:
    # PostgreSQL interpolates a median as lo + (hi - lo) / 2, Python as (lo + hi) / 2: the last bit may differ.
    return shown == fresh if fresh is None or shown is None else shown == pytest.approx(fresh, rel=1e-12)


def fresh_figures(snapshot: dict, effort_field: str) -> tuple[int, int, float | None, float | None]:
    """Scored, unscored, and the value and effort medians over the ideas with both."""
    scores = [item["score"] for item in snapshot["ideas"]]
    both = []
    for item in snapshot["ideas"]:
        effort = item["cost"] if effort_field == "cost" else (sum(item["effort"].values()) if item["effort"] else None)
        if item["score"] is not None and effort is not None:
            both.append((item["score"], effort))
    scored = sum(score is not None for score in scores)
    return scored, len(scores) - scored, median([s for s, _ in both]), median([e for _, e in both])


async def assert_figures_fresh(client, headers, base: str, models: dict[str, str], *, after: str) -> None:
    """Every version of every model: the ranking's stored figures equal fresh ones."""
    for model_id in models.values():
        versions = (await client.get(f"{base}/models/{model_id}/versions", headers=headers)).json()
        for version in versions:
            number = version["version"]
            setting = version["definition"].get("quadrants") or {}
            effort_field = setting.get("effortField", "effort")
            snapshot = await client.get(
                f"{base}/models/{model_id}/snapshot", params={"version": number}, headers=headers
            )
            assert snapshot.status_code == 200, snapshot.text
            scored, unscored, value, effort = fresh_figures(snapshot.json(), effort_field)
            # A threshold the model sets is shown instead of the median.
            value = value if setting.get("value") is None else setting["value"]
            effort = effort if setting.get("effort") is None else setting["effort"]
            for view in ({}, {"sort": "disagreement"}):
                page = await client.get(
                    f"{base}/models/{model_id}/ranking", params={"version": number, **view}, headers=headers
                )
                assert page.status_code == 200, page.text
                shown = page.json()
                where = f"after {after}, version {number} of {effort_field}, view {view}"
                assert (shown["scored"], shown["unscored"]) == (scored, unscored), where
                assert same(shown["quadrants"]["value"], value), where
                assert same(shown["quadrants"]["effort"], effort), where
                assert shown["quadrants"]["effortField"] == effort_field, where


async def test_stored_ranking_figures_follow_every_change_to_the_scores(client, token_for):
    headers = token_for(EDITOR)
    created = await client.post("/scoring/portfolios", json={"name": "Figures"}, headers=headers)
    base = f"/scoring/portfolios/{created.json()['id']}"
    models = {}
    for name, definition in (("Impact", IMPACT), ("Impact by cost", BY_COST)):
        made = await client.post(f"{base}/models", json={"name": name, "definition": definition}, headers=headers)
        assert made.status_code == 201, made.text
        models[name] = made.json()["id"]
    await assert_figures_fresh(client, headers, base, models, after="models on an empty backlog")

    ideas = [
        idea("F-1", 9, {"web": 2}, 1000),
        idea("F-2", 8, {"web": 10}, None),
        idea("F-3", 2, {"web": 1, "app": 1}, 5000),
        idea("F-4", 3, {"web": 20}, 300),
        idea("F-5", None, {"web": 1}, 200),
        idea("F-6", 7, {}, 800),
    ]
    bulk = await client.post(f"{base}/ideas/bulk", json={"ideas": ideas}, headers=headers)
    assert bulk.status_code == 201, bulk.text
    await assert_figures_fresh(client, headers, base, models, after="a bulk create")

    one = await client.post(f"{base}/ideas", json=idea("F-7", 6, {"web": 6}, 700), headers=headers)
    assert one.status_code == 201, one.text
    await assert_figures_fresh(client, headers, base, models, after="a create")

    replacement = {key: value for key, value in idea("F-2", 1, {"web": 30}, 9000).items() if key != "ref"}
    replaced = await client.put(f"{base}/ideas/F-2", json=replacement, headers=headers)
    assert replaced.status_code == 200, replaced.text
    patched = await client.patch(f"{base}/ideas/F-5", json={"estimates": {"customerImpact": 5}}, headers=headers)
    assert patched.status_code == 200, patched.text
    await assert_figures_fresh(client, headers, base, models, after="a replace and a patch")

    deleted = await client.delete(f"{base}/ideas/F-1", headers=headers)
    assert deleted.status_code == 204, deleted.text
    await assert_figures_fresh(client, headers, base, models, after="a delete")

    csv_headers = {**headers, "Content-Type": "text/csv"}
    new_rows = "ref,title,customer_impact,effort,cost\nF-8,F-8,4,web:3,100\nF-9,F-9,,web:4,\n"
    imported = await client.post(f"{base}/ideas.csv", content=new_rows, headers=csv_headers)
    assert imported.status_code == 200 and imported.json()["created"] == 2, imported.text
    await assert_figures_fresh(client, headers, base, models, after="an import")

    changes = "ref,title,customer_impact,effort,cost\nF-3,F-3,10,web:2,50\nF-8,F-8,,web:3,100\nF-10,F-10,3,web:9,40\n"
    upserted = await client.post(f"{base}/ideas.csv", params={"mode": "upsert"}, content=changes, headers=csv_headers)
    assert upserted.status_code == 200, upserted.text
    assert (upserted.json()["created"], upserted.json()["updated"]) == (1, 2), upserted.text
    await assert_figures_fresh(client, headers, base, models, after="an upsert import")

    revised = await client.put(
        f"{base}/models/{models['Impact']}",
        json={"definition": {**IMPACT, "quadrants": {"effort": 4}}},
        headers=headers,
    )
    assert revised.status_code == 200, revised.text
    switched = await client.put(
        f"{base}/models/{models['Impact by cost']}", json={"definition": IMPACT}, headers=headers
    )
    assert switched.status_code == 200, switched.text
    await assert_figures_fresh(client, headers, base, models, after="new model versions")
    page = (await client.get(f"{base}/models/{models['Impact']}/ranking", headers=headers)).json()
    assert page["quadrants"]["effort"] == 4 and page["quadrants"]["fromMedian"] == ["value"]

    for ref in ("F-2", "F-3", "F-4", "F-5", "F-6", "F-7", "F-8", "F-9", "F-10"):
        assert (await client.delete(f"{base}/ideas/{ref}", headers=headers)).status_code == 204
    await assert_figures_fresh(client, headers, base, models, after="deleting every idea")
    empty = (await client.get(f"{base}/models/{models['Impact']}/ranking", headers=headers)).json()
    assert (empty["scored"], empty["unscored"], empty["quadrants"]["value"]) == (0, 0, None)
