"""Stakeholder voices over HTTP: departments, ratings, the stakeholder model, disagreement, quadrants.

Every expected score below is worked out by hand in the comments, from the documented formula
(docs/scoring-models.md): a criterion's value is the departments' weighted mean of their
raters' means; the score is the criteria's weighted sum.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

EDITOR = "programme_manager"
DEPARTMENTS = [
    {"key": "sales", "name": "Branch sales", "customerFacing": True, "weight": 1},
    {"key": "support", "name": "Contact centre", "customerFacing": True, "weight": 2},
    {"key": "finance", "name": "Finance", "customerFacing": False, "weight": 1},
    {"key": "it", "name": "IT", "customerFacing": False, "weight": 1},
]
STAKEHOLDER_MODEL = {
    "kind": "stakeholder",
    "criteria": [{"criterion": "customerValue", "weight": 1}, {"criterion": "feasibility", "weight": 0.5}],
    "minCustomerFacing": 2,
}
# (subject, department, idea, criterion, value)
RATINGS = [
    ("s1", "sales", "V-1", "customerValue", 8),
    ("s2", "sales", "V-1", "customerValue", 6),
    ("s3", "support", "V-1", "customerValue", 4),
    ("s4", "finance", "V-1", "customerValue", 9),
    ("s5", "it", "V-1", "customerValue", 3),
    ("s1", "sales", "V-1", "feasibility", 6),
    ("s5", "it", "V-1", "feasibility", 10),
    ("s1", "sales", "V-2", "customerValue", 10),
    ("s2", "sales", "V-2", "customerValue", 10),
    ("s3", "support", "V-2", "customerValue", 0),
    ("s4", "finance", "V-2", "feasibility", 5),
    ("s4", "finance", "V-3", "customerValue", 8),
    ("s4", "finance", "V-3", "feasibility", 8),
    ("s5", "it", "V-3", "feasibility", 6),
]


@pytest.fixture
async def rated(client, token_for, member_of):
    """A portfolio with four departments, four ideas, the ratings above and a stakeholder model."""
    headers = token_for(EDITOR)
    created = await client.post(
        "/scoring/portfolios", json={"name": "Voices", "departments": DEPARTMENTS}, headers=headers
    )
    assert created.status_code == 201, created.text
    assert [d["key"] for d in created.json()["departments"]] == ["sales", "support", "finance", "it"]
    base = f"/scoring/portfolios/{created.json()['id']}"
    ideas = [{"ref": f"V-{n}", "title": f"Idea {n}", "estimates": {"reach": 1000}} for n in range(1, 5)]
    assert (await client.post(f"{base}/ideas/bulk", json={"ideas": ideas}, headers=headers)).status_code == 201
    model = await client.post(
        f"{base}/models", json={"name": "Voices", "definition": STAKEHOLDER_MODEL}, headers=headers
    )
    assert model.status_code == 201, model.text
    raters = {}
    for subject in ("s1", "s2", "s3", "s4", "s5"):
        raters[subject] = await member_of(created.json()["id"], "stakeholder", subject=f"{subject}@bank.example")
    for subject, department, ref, criterion, value in RATINGS:
        response = await client.put(
            f"{base}/ideas/{ref}/ratings/{criterion}",
            json={"value": value, "department": department, "comment": f"{subject} on {ref}"},
            headers=raters[subject],
        )
        assert response.status_code == 201, response.text
    return {"base": base, "model": model.json()["id"], "raters": raters, "headers": headers}


async def ranking(client, rated, **params) -> dict:
    response = await client.get(
        f"{rated['base']}/models/{rated['model']}/ranking", params=params, headers=rated["headers"]
    )
    assert response.status_code == 200, response.text
    return response.json()


def by_ref(page: dict) -> dict[str, dict]:
    return {item["ref"]: item for item in page["items"]}


async def test_the_stakeholder_score_counts_each_department_once(client, rated):
    items = by_ref(await ranking(client, rated))
    # V-1 customerValue: sales (8+6)/2 = 7, support 4 (weight 2), finance 9, it 3
    #   -> (1*7 + 2*4 + 1*9 + 1*3) / (1+2+1+1) = 27/5 = 5.4
    # V-1 feasibility: sales 6, it 10 -> 8; score = 1*5.4 + 0.5*8 = 9.4
    assert items["V-1"]["score"] == pytest.approx(9.4)
    contributions = {part["criterion"]: part["contribution"] for part in items["V-1"]["breakdown"]}
    assert contributions == pytest.approx({
        "customerValue:finance": 9 / 5, "customerValue:it": 3 / 5, "customerValue:sales": 7 / 5,
        "customerValue:support": 2 * 4 / 5, "feasibility:it": 0.5 * 10 / 2, "feasibility:sales": 0.5 * 6 / 2,
    })  # fmt: skip
    sales = next(part for part in items["V-1"]["breakdown"] if part["criterion"] == "customerValue:sales")
    assert sales["inputs"]["raters"] == 2 and sales["inputs"]["mean"] == 7
    # V-2: two sales raters at 10 are one voice against support's 0 at weight 2:
    #   customerValue (10 + 2*0) / 3, feasibility 5 -> 10/3 + 2.5
    assert items["V-2"]["score"] == pytest.approx(10 / 3 + 2.5)
    assert not items["V-1"]["insufficientInput"] and not items["V-2"]["insufficientInput"]


async def test_too_few_customer_facing_departments_is_scored_but_flagged(client, rated):
    page = await ranking(client, rated)
    # V-3: only finance and IT rated (8; (8+6)/2 = 7) -> 8 + 0.5*7 = 11.5, ranked first but flagged.
    assert [(item["ref"], item["rank"]) for item in page["items"]] == [
        ("V-3", 1),
        ("V-1", 2),
        ("V-2", 3),
        ("V-4", None),
    ]
    first = page["items"][0]
    assert first["score"] == pytest.approx(11.5) and first["insufficientInput"] is True
    assert "0 customer-facing department(s)" in first["warning"]
    unrated = page["items"][3]
    assert unrated["missing"] == ["stakeholder:customerValue", "stakeholder:feasibility"]


async def test_the_ranking_lists_the_ideas_departments_disagree_on_first(client, rated):
    page = await ranking(client, rated, sort="disagreement")
    # Largest spread of department means over the model's criteria:
    # V-2 customerValue 10 vs 0 -> 10; V-1 customerValue 9 vs 3 -> 6; V-3 feasibility 8 vs 6 -> 2.
    assert [(item["ref"], item["disagreement"]) for item in page["items"]] == [
        ("V-2", 10.0), ("V-1", 6.0), ("V-3", 2.0), ("V-4", None),
    ]  # fmt: skip
    assert page["nextCursor"] is None


async def test_ratings_are_summarised_per_criterion_and_department_and_replaced_per_subject(client, rated):
    base, raters = rated["base"], rated["raters"]
    summary = (await client.get(f"{base}/ideas/V-1/ratings", headers=rated["headers"])).json()
    value = next(c for c in summary["criteria"] if c["criterion"] == "customerValue")
    assert value["value"] == pytest.approx(5.4) and value["spread"] == 6
    sales = next(d for d in value["departments"] if d["department"] == "sales")
    assert (sales["mean"], sales["count"], sales["spread"], sales["raters"]) == (
        7,
        2,
        2,
        ["s1@bank.example", "s2@bank.example"],
    )
    assert sales["customerFacing"] is True and sales["name"] == "Branch sales"
    assert len(summary["ratings"]) == 7

    again = await client.put(
        f"{base}/ideas/V-1/ratings/customerValue", json={"value": 10, "department": "sales"}, headers=raters["s1"]
    )
    assert again.status_code == 200, again.text  # replaced, not added
    # sales (10+6)/2 = 8 -> customerValue (8 + 8 + 9 + 3) / 5 = 5.6 -> 5.6 + 4 = 9.6
    assert by_ref(await ranking(client, rated))["V-1"]["score"] == pytest.approx(9.6)

    # A department's weight changes what its voice counts, at once: support 2 -> 1.
    departments = [{**d, "weight": 1} for d in DEPARTMENTS]
    patched = await client.patch(base, json={"departments": departments}, headers=rated["headers"])
    assert patched.status_code == 200, patched.text
    # customerValue (8 + 4 + 9 + 3) / 4 = 6 -> 6 + 4 = 10
    assert by_ref(await ranking(client, rated))["V-1"]["score"] == pytest.approx(10)

    withdrawn = await client.delete(f"{base}/ideas/V-1/ratings/feasibility", headers=raters["s1"])
    assert withdrawn.status_code == 204, withdrawn.text
    # feasibility now IT's 10 alone -> 6 + 0.5*10 = 11
    assert by_ref(await ranking(client, rated))["V-1"]["score"] == pytest.approx(11)


async def test_a_weighted_model_reads_a_stakeholder_criterion(client, rated):
    definition = {
        "kind": "weighted",
        "criteria": [{"field": "stakeholder:customerValue", "weight": 10}, {"field": "reach", "weight": 0.001}],
    }
    model = await client.post(
        f"{rated['base']}/models", json={"name": "Mixed", "definition": definition}, headers=rated["headers"]
    )
    assert model.status_code == 201, model.text
    page = await ranking(client, {**rated, "model": model.json()["id"]})
    items = by_ref(page)
    assert items["V-1"]["score"] == pytest.approx(10 * 5.4 + 1)  # 5.4 as above, reach 1000
    assert items["V-4"]["score"] is None and items["V-4"]["missing"] == ["stakeholder:customerValue"]


async def test_who_may_rate_and_what_a_rating_must_be(client, rated, token_for, member_of):
    base, rater = rated["base"], rated["raters"]["s1"]
    url = f"{base}/ideas/V-1/ratings/customerValue"
    for body, field in (
        ({"value": 11, "department": "sales"}, "value"),
        ({"value": 5, "department": "marketing"}, "department"),
        ({"value": 5}, "department"),
    ):
        response = await client.put(url, json=body, headers=rater)
        assert response.status_code == 422, response.text
        assert field in [error["field"] for error in response.json()["errors"]], response.json()
    bad_key = await client.put(
        f"{base}/ideas/V-1/ratings/not%20a%20key", json={"value": 5, "department": "it"}, headers=rater
    )
    assert bad_key.status_code == 422 and bad_key.json()["errors"][0]["field"] == "path.criterion"
    missing = await client.put(
        f"{base}/ideas/NOPE/ratings/customerValue", json={"value": 5, "department": "it"}, headers=rater
    )
    assert missing.status_code == 404
    # Only a stakeholder rates: a programme manager or a viewer is refused.
    for headers in (rated["headers"], token_for("viewer", subject="viewer@example.com")):
        portfolio_id = base.rsplit("/", 1)[1]
        await member_of(portfolio_id, "viewer", subject="viewer@example.com")
        refused = await client.put(url, json={"value": 5, "department": "it"}, headers=headers)
        assert refused.status_code == 403, refused.text
    bad_departments = await client.patch(
        base, json={"departments": [DEPARTMENTS[0], {**DEPARTMENTS[1], "key": "sales"}]}, headers=rated["headers"]
    )
    assert bad_departments.status_code == 422
    assert bad_departments.json()["errors"][0]["field"] == "departments[1].key"
    bad_model = await client.post(
        f"{base}/models",
        json={"name": "Empty", "definition": {"kind": "stakeholder", "criteria": []}},
        headers=rated["headers"],
    )
    assert bad_model.status_code == 422 and bad_model.json()["errors"][0]["field"] == "definition.criteria"


async def test_quadrants_split_at_the_portfolio_medians_unless_the_model_sets_them(client, token_for):
    headers = token_for(EDITOR)
    created = await client.post("/scoring/portfolios", json={"name": "Quadrants"}, headers=headers)
    base = f"/scoring/portfolios/{created.json()['id']}"
    shapes = {"Q-1": (9, {"web": 2}), "Q-2": (8, {"web": 10}), "Q-3": (2, {"web": 1, "app": 1}), "Q-4": (3, {"web": 20}),
              "Q-5": (5, {"web": 5}), "Q-6": (7, {}), "Q-7": (None, {"web": 1}), "Q-8": (6, {"web": 6})}  # fmt: skip
    ideas = [
        {"ref": ref, "title": ref, "estimates": {"customerImpact": impact, "effort": effort}}
        for ref, (impact, effort) in shapes.items()
    ]
    assert (await client.post(f"{base}/ideas/bulk", json={"ideas": ideas}, headers=headers)).status_code == 201
    definition = {"kind": "weighted", "criteria": [{"field": "customer_impact", "weight": 1}]}
    model = await client.post(f"{base}/models", json={"name": "Impact", "definition": definition}, headers=headers)
    url = f"{base}/models/{model.json()['id']}/ranking"

    page = (await client.get(url, headers=headers)).json()
    # Ideas with a score and an effort: scores 9 8 2 3 5 6 -> median (5+6)/2 = 5.5;
    # efforts 2 10 2 20 5 6 -> median (5+6)/2 = 5.5. Q-6 has no effort, Q-7 no score.
    assert page["quadrants"] == {
        "value": 5.5,
        "effort": 5.5,
        "effortField": "effort",
        "fromMedian": ["value", "effort"],
    }
    assert {item["ref"]: item["quadrant"] for item in page["items"]} == {
        "Q-1": "quickWin", "Q-2": "majorProject", "Q-3": "fillIn", "Q-4": "moneyPit",
        "Q-5": "fillIn", "Q-6": None, "Q-7": None, "Q-8": "majorProject",
    }  # fmt: skip
    major = (await client.get(url, params={"quadrant": "majorProject"}, headers=headers)).json()
    assert [item["ref"] for item in major["items"]] == ["Q-2", "Q-8"] and major["total"] == 2

    revised = await client.put(
        f"{base}/models/{model.json()['id']}",
        json={"definition": {**definition, "quadrants": {"value": 7}}},
        headers=headers,
    )
    assert revised.status_code == 200, revised.text
    page = (await client.get(url, headers=headers)).json()
    assert page["quadrants"]["value"] == 7 and page["quadrants"]["fromMedian"] == ["effort"]
    assert by_ref(page)["Q-8"]["quadrant"] == "moneyPit"  # 6 < 7, 6 > 5.5
    wins = (await client.get(url, params={"quadrant": "quickWin"}, headers=headers)).json()
    assert [item["ref"] for item in wins["items"]] == ["Q-1"]
    cursor_refused = await client.get(
        url, params={"quadrant": "quickWin", "cursor": page["nextCursor"] or "x"}, headers=headers
    )
    assert cursor_refused.status_code == 422
