"""Scoring models over HTTP: versions, stored scores with breakdowns, rankings, CSV import/export."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration

EDITOR = "programme_manager"
RICE = {"kind": "rice"}


@pytest.fixture
async def portfolio_url(client, token_for):
    response = await client.post("/scoring/portfolios", json={"name": "Retail"}, headers=token_for(EDITOR))
    return f"/scoring/portfolios/{response.json()['id']}"


async def count_in(conn, portfolio_url: str, table: str) -> int:
    """Rows of a portfolio's table: this test's own, whatever other tests left behind."""
    portfolio_id = uuid.UUID(portfolio_url.rsplit("/", 1)[1])
    return await conn.fetchval(f"SELECT count(*) FROM {table} WHERE portfolio_id = $1", portfolio_id)


async def add_ideas(client, token_for, portfolio_url, *ideas):
    response = await client.post(f"{portfolio_url}/ideas/bulk", json={"ideas": list(ideas)}, headers=token_for(EDITOR))
    assert response.status_code == 201, response.text


def rice_idea(ref, reach, impact, confidence, effort):
    estimates = {"reach": reach, "customerImpact": impact, "confidence": confidence, "effort": effort}
    return {"ref": ref, "title": ref, "estimates": {k: v for k, v in estimates.items() if v is not None}}


async def create_model(client, token_for, portfolio_url, name="RICE", definition=RICE):
    response = await client.post(
        f"{portfolio_url}/models", json={"name": name, "definition": definition}, headers=token_for(EDITOR)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_ranking_orders_by_score_then_ref_with_unscored_last(client, token_for, portfolio_url):
    await add_ideas(
        client,
        token_for,
        portfolio_url,
        rice_idea("B", 1000, 3, 0.5, {"web": 5}),  # 1000*3*0.5/5 = 300
        rice_idea("A", 1000, 3, 0.5, {"web": 5}),  # 300, ties with B: A first by ref
        rice_idea("C", 2000, 6, 0.8, {"web": 2, "app": 2}),  # 2000*6*0.8/4 = 2400
        rice_idea("D", 500, 4, None, {"web": 1}),  # no confidence: unscored
    )
    model = await create_model(client, token_for, portfolio_url)
    ranking = await client.get(f"{portfolio_url}/models/{model['id']}/ranking", headers=token_for("viewer"))
    body = ranking.json()
    assert [(item["ref"], item["rank"], item["score"]) for item in body["items"]] == [
        ("C", 1, pytest.approx(2400.0)),
        ("A", 2, pytest.approx(300.0)),
        ("B", 3, pytest.approx(300.0)),
        ("D", None, None),
    ]
    assert body["items"][3]["missing"] == ["confidence"]
    assert body["scored"] == 3 and body["unscored"] == 1 and body["modelVersion"] == 1
    paged = await client.get(
        f"{portfolio_url}/models/{model['id']}/ranking", params={"page": 2, "pageSize": 2}, headers=token_for("viewer")
    )
    assert [item["ref"] for item in paged.json()["items"]] == ["B", "D"]


async def test_adding_an_idea_never_changes_another_ideas_score(client, token_for, portfolio_url):
    await add_ideas(client, token_for, portfolio_url, rice_idea("A", 1000, 3, 0.5, {"web": 5}))
    model = await create_model(client, token_for, portfolio_url)
    before = (await client.get(f"{portfolio_url}/ideas/A/scores", headers=token_for("viewer"))).json()
    await add_ideas(client, token_for, portfolio_url, rice_idea("Z", 90000, 10, 1, {"web": 1}))
    after = (await client.get(f"{portfolio_url}/ideas/A/scores", headers=token_for("viewer"))).json()
    assert before == after
    assert after[0]["modelId"] == model["id"] and after[0]["score"] == pytest.approx(300.0)


async def test_a_changed_model_is_a_new_version_and_old_scores_stay(client, token_for, portfolio_url):
    await add_ideas(client, token_for, portfolio_url, rice_idea("A", 1000, 3, 0.5, {"web": 5}))
    model = await create_model(client, token_for, portfolio_url)
    weighted = {"kind": "weighted", "criteria": [{"field": "customer_impact", "weight": 2.0}]}
    revised = await client.put(
        f"{portfolio_url}/models/{model['id']}", json={"definition": weighted}, headers=token_for(EDITOR)
    )
    assert revised.status_code == 200, revised.text
    assert revised.json()["latest"]["version"] == 2 and revised.json()["versions"] == 2
    scores = (await client.get(f"{portfolio_url}/ideas/A/scores", headers=token_for("viewer"))).json()
    assert [(s["modelVersion"], s["score"]) for s in scores] == [(1, pytest.approx(300.0)), (2, pytest.approx(6.0))]
    assert scores[1]["breakdown"][0]["contribution"] == pytest.approx(6.0)
    old = await client.get(
        f"{portfolio_url}/models/{model['id']}/ranking", params={"version": 1}, headers=token_for("viewer")
    )
    assert old.json()["modelVersion"] == 1 and old.json()["items"][0]["score"] == pytest.approx(300.0)


async def test_editing_an_idea_rescores_it(client, token_for, portfolio_url):
    await add_ideas(client, token_for, portfolio_url, rice_idea("A", 1000, 3, 0.5, {"web": 5}))
    await create_model(client, token_for, portfolio_url)
    await client.patch(
        f"{portfolio_url}/ideas/A",
        json={"estimates": {"reach": 2000, "customerImpact": 3, "confidence": 0.5, "effort": {"web": 5}}},
        headers=token_for(EDITOR),
    )
    scores = (await client.get(f"{portfolio_url}/ideas/A/scores", headers=token_for("viewer"))).json()
    assert scores[0]["score"] == pytest.approx(600.0)


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"kind": "magic"}, "definition"),
        ({"kind": "custom", "formula": "reach * (impact"}, "definition.formula"),
        ({"kind": "custom", "formula": "__import__('os')"}, "definition.formula"),
        ({"kind": "weighted", "criteria": [{"field": "shoe_size", "weight": 1}]}, "definition.criteria"),
        ({"kind": "rice", "extra": 1}, "definition"),
    ],
)
async def test_a_bad_model_is_a_422_saying_where_and_nothing_is_written(
    client, token_for, portfolio_url, conn, definition, field
):
    response = await client.post(
        f"{portfolio_url}/models", json={"name": "Bad", "definition": definition}, headers=token_for(EDITOR)
    )
    assert response.status_code == 422, response.text
    assert any(error["field"].startswith(field) for error in response.json()["errors"]), response.json()
    assert await count_in(conn, portfolio_url, "scoring.models") == 0


async def test_a_bad_formula_names_the_column(client, token_for, portfolio_url):
    response = await client.post(
        f"{portfolio_url}/models",
        json={"name": "Bad", "definition": {"kind": "custom", "formula": "reach * (customer_impact"}},
        headers=token_for(EDITOR),
    )
    assert "column" in response.json()["detail"]


async def test_model_names_are_unique_per_portfolio(client, token_for, portfolio_url):
    await create_model(client, token_for, portfolio_url)
    again = await client.post(
        f"{portfolio_url}/models", json={"name": "RICE", "definition": RICE}, headers=token_for(EDITOR)
    )
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "name"


async def test_csv_export_then_import_gives_back_the_same_ideas(client, token_for, portfolio_url):
    ideas = [
        {
            "ref": "CJ-1",
            "title": "=Explain fees, before checkout",
            "description": 'Says "why" on two\nlines',
            "journey": {"persona": "First-time buyer", "journeyStage": "purchase", "painPoint": "Surprise fees"},
            "estimates": {"customerImpact": 7.5, "reach": 12000, "confidence": 0.8, "effort": {"web": 15, "backend": 0.1},
                          "cost": 18000, "annualBenefit": 1 / 3},
            "phases": ["improve", "perfection"],
            "tags": ["fees", "checkout"],
        },
        {"ref": "CJ-2", "title": "Research retirees' branch visits", "phases": ["discovery"]},
    ]  # fmt: skip
    await add_ideas(client, token_for, portfolio_url, *ideas)
    exported = await client.get(f"{portfolio_url}/ideas.csv", headers=token_for("viewer"))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")

    other = await client.post("/scoring/portfolios", json={"name": "Copy"}, headers=token_for(EDITOR))
    other_url = f"/scoring/portfolios/{other.json()['id']}"
    imported = await client.post(
        f"{other_url}/ideas.csv", content=exported.content, headers={**token_for(EDITOR), "Content-Type": "text/csv"}
    )
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"created": 2, "updated": 0, "unchanged": 0}

    def comparable(page):
        return [{k: v for k, v in item.items() if k not in ("id", "createdAt", "updatedAt")} for item in page["items"]]

    original = (await client.get(f"{portfolio_url}/ideas", headers=token_for("viewer"))).json()
    copied = (await client.get(f"{other_url}/ideas", headers=token_for("viewer"))).json()
    assert comparable(copied) == comparable(original)


async def test_a_bad_csv_names_every_bad_row_and_column_and_writes_nothing(client, token_for, portfolio_url, conn):
    text = (
        "ref,title,customer_impact,confidence,phases\n"
        "CJ-1,Good idea,5,0.5,improve\n"
        "CJ-2,Bad impact,eleven,0.5,improve\n"
        "CJ-3,Bad confidence,5,1.5,improve\n"
        "CJ-4,Bad phase,5,0.5,someday\n"
    )
    response = await client.post(
        f"{portfolio_url}/ideas.csv", content=text.encode(), headers={**token_for(EDITOR), "Content-Type": "text/csv"}
    )
    assert response.status_code == 422, response.text
    located = {(error["row"], error["column"]) for error in response.json()["errors"]}
    assert located == {(3, "customer_impact"), (4, "confidence"), (5, "phases")}
    assert await count_in(conn, portfolio_url, "scoring.ideas") == 0


async def test_a_csv_that_is_not_utf8_is_refused(client, token_for, portfolio_url, conn):
    response = await client.post(
        f"{portfolio_url}/ideas.csv",
        content="ref,title\nCJ-1,Caf\u00e9\n".encode("latin-1"),
        headers={**token_for(EDITOR), "Content-Type": "text/csv"},
    )
    assert response.status_code == 400
    assert await count_in(conn, portfolio_url, "scoring.ideas") == 0


async def test_importing_existing_refs_needs_upsert(client, token_for, portfolio_url):
    text = b"ref,title\nCJ-1,First\n"
    headers = {**token_for(EDITOR), "Content-Type": "text/csv"}
    assert (await client.post(f"{portfolio_url}/ideas.csv", content=text, headers=headers)).status_code == 200
    again = await client.post(f"{portfolio_url}/ideas.csv", content=b"ref,title\nCJ-1,Renamed\n", headers=headers)
    assert again.status_code == 409
    upsert = await client.post(
        f"{portfolio_url}/ideas.csv", params={"mode": "upsert"}, content=b"ref,title\nCJ-1,Renamed\n", headers=headers
    )
    assert upsert.json() == {"created": 0, "updated": 1, "unchanged": 0}
    idea = await client.get(f"{portfolio_url}/ideas/CJ-1", headers=token_for("viewer"))
    assert idea.json()["title"] == "Renamed"


async def test_a_create_import_conflict_names_the_rows(client, token_for, portfolio_url):
    headers = {**token_for(EDITOR), "Content-Type": "text/csv"}
    await client.post(f"{portfolio_url}/ideas.csv", content=b"ref,title\nCJ-1,First\n", headers=headers)
    again = await client.post(
        f"{portfolio_url}/ideas.csv", content=b"ref,title\nCJ-0,New\nCJ-1,Again\n", headers=headers
    )
    assert again.status_code == 409
    assert [(e["row"], e["column"], e["field"]) for e in again.json()["errors"]] == [(3, "ref", "row 3, column ref")]


async def test_an_upsert_changes_only_the_columns_the_file_has(client, token_for, portfolio_url):
    full = {
        "ref": "CJ-7", "title": "Old title", "description": "kept",
        "journey": {"persona": "Retiree", "journeyStage": "support"}, "tags": ["branch"], "phases": ["improve"],
        "estimates": {"customerImpact": 6, "reach": 4000, "confidence": 0.7, "effort": {"mobile": 10}, "cost": 5000},
    }  # fmt: skip
    await add_ideas(client, token_for, portfolio_url, full)
    before = (await client.get(f"{portfolio_url}/ideas/CJ-7", headers=token_for("viewer"))).json()
    headers = {**token_for(EDITOR), "Content-Type": "text/csv"}
    renamed = await client.post(
        f"{portfolio_url}/ideas.csv",
        params={"mode": "upsert"},
        content=b"ref,title,cost\nCJ-7,New title,6000\n",
        headers=headers,
    )
    assert renamed.json() == {"created": 0, "updated": 1, "unchanged": 0}
    after = (await client.get(f"{portfolio_url}/ideas/CJ-7", headers=token_for("viewer"))).json()
    assert after["title"] == "New title" and after["estimates"]["cost"] == 6000
    for field in ("description", "journey", "tags", "phases"):
        assert after[field] == before[field], field
    assert {k: v for k, v in after["estimates"].items() if k != "cost"} == {
        k: v for k, v in before["estimates"].items() if k != "cost"
    }


async def test_reimporting_an_unchanged_export_changes_nothing(client, token_for, portfolio_url):
    await add_ideas(client, token_for, portfolio_url, {"ref": "CJ-1", "title": "One", "estimates": {"reach": 1 / 3}},
                    {"ref": "CJ-2", "title": "Two", "tags": ["a;b"], "phases": ["discovery"]})  # fmt: skip
    before = (await client.get(f"{portfolio_url}/ideas", headers=token_for("viewer"))).json()["items"]
    exported = await client.get(f"{portfolio_url}/ideas.csv", headers=token_for("viewer"))
    headers = {**token_for(EDITOR), "Content-Type": "text/csv"}
    again = await client.post(
        f"{portfolio_url}/ideas.csv", params={"mode": "upsert"}, content=exported.content, headers=headers
    )
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 2}
    after = (await client.get(f"{portfolio_url}/ideas", headers=token_for("viewer"))).json()["items"]
    assert [item["updatedAt"] for item in after] == [item["updatedAt"] for item in before]


@pytest.mark.parametrize(
    ("text", "row", "column"),
    [
        ('ref,title\nCJ-1,"unclosed quote\n', 2, None),
        ("ref,title,colour\nCJ-1,A,red\n", 1, "colour"),
        ("title\nA\n", 1, "ref"),
        ("ref,title\nCJ-1,A,extra\n", 2, None),
        ("ref,title,effort\nCJ-1,A,web=3\n", 2, "effort"),
        ("ref,title\nCJ-1,A\nCJ-1,B\n", 3, "ref"),
    ],
)
async def test_malformed_csv_files_name_the_row_and_column(client, token_for, portfolio_url, conn, text, row, column):
    response = await client.post(
        f"{portfolio_url}/ideas.csv", content=text.encode(), headers={**token_for(EDITOR), "Content-Type": "text/csv"}
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["row"] == row and (column is None or e["column"] == column) for e in errors), errors
    assert await count_in(conn, portfolio_url, "scoring.ideas") == 0


@pytest.mark.parametrize("role", ["viewer", "leader", "delivery"])
async def test_only_editors_create_or_revise_models(client, token_for, member_of, portfolio_url, role, conn):
    member = await member_of(portfolio_url.rsplit("/", 1)[1], role)
    response = await client.post(f"{portfolio_url}/models", json={"name": "RICE", "definition": RICE}, headers=member)
    assert response.status_code == 403
    model = await create_model(client, token_for, portfolio_url)
    revise = await client.put(f"{portfolio_url}/models/{model['id']}", json={"definition": RICE}, headers=member)
    assert revise.status_code == 403
    versions = """
        SELECT count(*) FROM scoring.model_versions v JOIN scoring.models m ON m.id = v.model_id WHERE m.portfolio_id = $1
    """
    assert await conn.fetchval(versions, uuid.UUID(portfolio_url.rsplit("/", 1)[1])) == 1


async def test_every_builtin_model_kind_is_accepted(client, token_for, portfolio_url):
    await add_ideas(client, token_for, portfolio_url, {
        "ref": "A", "title": "A",
        "estimates": {"customerImpact": 6, "reach": 1000, "confidence": 0.5, "effort": {"web": 4}, "cost": 1000,
                      "annualBenefit": 3000, "timeCriticality": 2, "riskReduction": 4},
    })  # fmt: skip
    expected = {
        "rice": 1000 * 6 * 0.5 / 4,
        "wsjf": (6 + 2 + 4) / 4,
        "ice": 6 * 0.5 * (10 / 4),
        "value_effort": 3000 / 4,
        "roi": (3000 * 1 - 1000) / 1000,
    }
    for kind, value in expected.items():
        model = await create_model(client, token_for, portfolio_url, name=kind, definition={"kind": kind})
        ranking = await client.get(f"{portfolio_url}/models/{model['id']}/ranking", headers=token_for("viewer"))
        assert ranking.json()["items"][0]["score"] == pytest.approx(value), kind


async def test_following_cursors_gives_the_same_ranking_as_page_numbers(client, token_for, portfolio_url):
    ideas = [rice_idea(f"R-{n:02d}", 100 * (n % 4), 5, 0.5, {"web": 1}) for n in range(13)]
    ideas += [rice_idea("U-1", 100, 5, None, {"web": 1}), rice_idea("U-0", None, 5, 0.5, {"web": 1})]
    await add_ideas(client, token_for, portfolio_url, *ideas)
    model = await create_model(client, token_for, portfolio_url)
    url = f"{portfolio_url}/models/{model['id']}/ranking"
    viewer = token_for("viewer")

    whole = (await client.get(url, params={"pageSize": 100}, headers=viewer)).json()
    assert whole["nextCursor"] is None and len(whole["items"]) == 15

    walked, cursor = [], None
    while True:
        params = {"pageSize": 4, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=viewer)).json()
        walked += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert [(i["ref"], i["rank"]) for i in walked] == [(i["ref"], i["rank"]) for i in whole["items"]]
    assert [i["ref"] for i in walked[-2:]] == ["U-0", "U-1"]


async def test_a_forged_cursor_is_a_422_naming_it(client, token_for, portfolio_url):
    await add_ideas(client, token_for, portfolio_url, rice_idea("A", 1, 1, 1, {"web": 1}))
    model = await create_model(client, token_for, portfolio_url)
    response = await client.get(
        f"{portfolio_url}/models/{model['id']}/ranking",
        params={"cursor": "bm90LWEtY3Vyc29y"},
        headers=token_for("viewer"),
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.cursor"


async def test_a_snapshot_carries_each_ideas_score_cost_effort_and_phases(client, token_for, portfolio_url):
    await add_ideas(
        client,
        token_for,
        portfolio_url,
        {**rice_idea("A", 1000, 3, 0.5, {"web": 5}), "phases": ["improve"], "estimates": {
            "reach": 1000, "customerImpact": 3, "confidence": 0.5, "effort": {"web": 5}, "cost": 9000}},
        rice_idea("B", 10, 3, None, {"app": 1}),
    )  # fmt: skip
    model = await create_model(client, token_for, portfolio_url)
    snapshot = (
        await client.get(f"{portfolio_url}/models/{model['id']}/snapshot", headers=token_for("delivery"))
    ).json()
    assert snapshot["modelVersion"] == 1 and snapshot["currency"] == "EUR"
    first, second = snapshot["ideas"]
    assert (first["ref"], first["score"], first["cost"], first["effort"], first["phases"]) == (
        "A",
        pytest.approx(300.0),
        9000.0,
        {"web": 5.0},
        ["improve"],
    )
    assert second["ref"] == "B" and second["score"] is None and second["missing"] == ["confidence"]


async def test_scores_are_shown_at_ten_significant_digits_without_float_noise(client, token_for, portfolio_url):
    # 0.23 + 0.46 is 0.6900000000000001 in binary floating point.
    weighted = {
        "kind": "weighted",
        "criteria": [{"field": "customer_impact", "weight": 0.23}, {"field": "time_criticality", "weight": 0.46}],
    }
    idea = {"ref": "N-1", "title": "Noisy", "estimates": {"customerImpact": 1, "timeCriticality": 1}}
    await add_ideas(client, token_for, portfolio_url, idea)
    model = await create_model(client, token_for, portfolio_url, name="Weighted", definition=weighted)

    ranking = await client.get(f"{portfolio_url}/models/{model['id']}/ranking", headers=token_for("viewer"))
    assert '"score":0.69,' in ranking.text, ranking.text
    scores = await client.get(f"{portfolio_url}/ideas/N-1/scores", headers=token_for("viewer"))
    (score,) = scores.json()
    assert score["score"] == 0.69
    assert [part["contribution"] for part in score["breakdown"]] == [0.23, 0.46]


async def test_a_version_beyond_what_the_database_stores_is_a_422_naming_it(client, token_for, portfolio_url):
    model = await create_model(client, token_for, portfolio_url)
    for path in ("ranking", "snapshot"):
        response = await client.get(
            f"{portfolio_url}/models/{model['id']}/{path}",
            params={"version": 156304621417, "quadrant": "majorProject"}
            if path == "ranking"
            else {"version": 156304621417},
            headers=token_for("viewer"),
        )
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "version" in response.text
