"""Hot reads served from the read cache show every change, the clock's included, and never skip
the caller's access check (issue 14; services/kit/read_cache.py, migration 0024).

Two apps share the test's connection: the one under test keeps answers, its twin keeps none.
After every kind of write, each page read through both must be the same bytes; a page kept
across a change that did not move the portfolio's generation would differ.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from roadmap_fixtures import EDITOR, backlog_idea, scored_portfolio

from services.kit import migrate

pytestmark = pytest.mark.integration


def pages(scored: dict[str, str]) -> list[tuple[str, dict]]:
    ranking = f"{scored['base']}/models/{scored['modelId']}/ranking"
    return [
        (ranking, {"pageSize": 3}),
        (ranking, {"pageSize": 50}),
        (ranking, {"sort": "disagreement"}),
        (ranking, {"quadrant": "quickWin"}),
        (f"{scored['base']}/ideas", {"pageSize": 50}),
        (f"{scored['base']}/ideas", {"journeyStage": "onboarding"}),
        (f"{scored['base']}/ideas", {"pageSize": 2, "page": 2}),
    ]


async def same_everywhere(client, uncached, scored, headers) -> None:
    """Every page twice from the cached app (the second from its cache) and once uncached: same bytes."""
    for url, params in pages(scored):
        first = await client.get(url, params=params, headers=headers)
        again = await client.get(url, params=params, headers=headers)
        fresh = await uncached.get(url, params=params, headers=headers)
        assert first.status_code == again.status_code == fresh.status_code == 200, (url, params, fresh.text)
        assert first.content == again.content == fresh.content, (url, params)


async def test_every_kind_of_write_shows_on_the_next_cached_read(client, uncached_client, token_for):
    scored = await scored_portfolio(client, token_for)
    base, editor, viewer = scored["base"], token_for(EDITOR), token_for("viewer")
    model_url = f"{base}/models/{scored['modelId']}"

    new_idea = backlog_idea("D", reach=900, impact=9, cost=2000, phases=["improve"])
    revised = {"definition": {"kind": "rice", "quadrants": {"effortField": "cost"}}}
    writes = [
        ("create an idea", "POST", f"{base}/ideas", new_idea),
        ("retitle an idea", "PATCH", f"{base}/ideas/A1", {"title": "Renamed"}),
        ("re-estimate an idea", "PATCH", f"{base}/ideas/A2", {"estimates": {"reach": 99_000}}),
        ("move an idea's journey stage", "PATCH", f"{base}/ideas/C", {"journey": {"journeyStage": "onboarding"}}),
        ("revise the model", "PUT", model_url, revised),
        ("set a review cadence", "PATCH", base, {"reviewEveryDays": 30}),
        ("delete an idea", "DELETE", f"{base}/ideas/B", None),
    ]
    await same_everywhere(client, uncached_client, scored, viewer)
    for name, method, url, body in writes:
        done = await client.request(method, url, json=body, headers=editor)
        assert done.status_code < 300, (name, done.text)
        await same_everywhere(client, uncached_client, scored, viewer)


async def test_a_stakeholder_rating_shows_on_the_next_cached_read(client, uncached_client, token_for, member_of):
    editor = token_for(EDITOR)
    departments = [
        {"key": "sales", "name": "Sales", "customerFacing": True, "weight": 1},
        {"key": "it", "name": "IT", "customerFacing": False, "weight": 1},
    ]
    made = await client.post("/scoring/portfolios", json={"name": "Voices", "departments": departments}, headers=editor)
    base = f"/scoring/portfolios/{made.json()['id']}"
    ideas = [{"ref": f"V-{n}", "title": f"Idea {n}", "estimates": {"reach": 1000}} for n in (1, 2)]
    assert (await client.post(f"{base}/ideas/bulk", json={"ideas": ideas}, headers=editor)).status_code == 201
    definition = {
        "kind": "stakeholder",
        "criteria": [{"criterion": "customerValue", "weight": 1}],
        "minCustomerFacing": 1,
    }
    model = await client.post(f"{base}/models", json={"name": "Voices", "definition": definition}, headers=editor)
    assert model.status_code == 201, model.text
    scored = {"base": base, "modelId": model.json()["id"]}
    viewer = token_for("viewer")
    await same_everywhere(client, uncached_client, scored, viewer)
    for subject, department, value in (("s1", "sales", 8), ("s2", "it", 2), ("s1", "sales", 3)):
        rater = await member_of(made.json()["id"], "stakeholder", subject=f"{subject}@bank.example")
        rated = await client.put(
            f"{base}/ideas/V-1/ratings/customerValue", json={"value": value, "department": department}, headers=rater
        )
        assert rated.status_code in (200, 201), rated.text
        await same_everywhere(client, uncached_client, scored, viewer)


async def test_a_kept_page_is_never_served_to_a_caller_who_lost_access(client, token_for, member_of):
    scored = await scored_portfolio(client, token_for)
    ranking = f"{scored['base']}/models/{scored['modelId']}/ranking"
    portfolio_id = scored["portfolioId"]
    reader = await member_of(portfolio_id, "viewer", subject="reader@example.com")
    assert (await client.get(ranking, headers=reader)).status_code == 200
    assert (await client.get(f"{scored['base']}/ideas", headers=reader)).status_code == 200
    admin = token_for("admin", subject="admin@example.com")
    removed = await client.delete(f"{scored['base']}/members/reader@example.com", headers=admin)
    assert removed.status_code == 204, removed.text
    # Nothing the pages show changed, so they are still kept; the access check still runs.
    for url in (ranking, f"{scored['base']}/ideas"):
        refused = await client.get(url, headers=reader)
        assert refused.status_code == 404, refused.text
        assert (await client.get(url, headers=token_for("viewer"))).status_code == 200


async def test_a_kept_ranking_of_a_deleted_model_or_a_missing_version_is_not_served(client, token_for):
    scored = await scored_portfolio(client, token_for)
    model_url = f"{scored['base']}/models/{scored['modelId']}"
    viewer = token_for("viewer")
    for params in ({}, {"version": 1}):
        assert (await client.get(f"{model_url}/ranking", params=params, headers=viewer)).status_code == 200
    missing = await client.get(f"{model_url}/ranking", params={"version": 2}, headers=viewer)
    assert missing.status_code == 404, missing.text
    assert (await client.delete(model_url, headers=token_for(EDITOR))).status_code == 204
    for params in ({}, {"version": 1}):
        gone = await client.get(f"{model_url}/ranking", params=params, headers=viewer)
        assert gone.status_code == 404 and "scoring model" in gone.json()["detail"], gone.text


async def test_a_kept_page_flags_an_estimate_stale_once_the_clock_passes_the_cadence(client, token_for, clock):
    scored = await scored_portfolio(client, token_for)
    editor, viewer = token_for(EDITOR), token_for("viewer")
    assert (await client.patch(scored["base"], json={"reviewEveryDays": 30}, headers=editor)).status_code == 200
    clock.advance(days=20)
    # Re-estimated 20 days after the others: fresh for 10 days longer than they are.
    assert (
        await client.patch(f"{scored['base']}/ideas/C", json={"estimates": {"reach": 700}}, headers=editor)
    ).is_success
    ranking = f"{scored['base']}/models/{scored['modelId']}/ranking"

    def stale(page: httpx.Response) -> dict[str, bool]:
        return {item["ref"]: item["stale"] for item in page.json()["items"]}

    for url in (ranking, f"{scored['base']}/ideas"):
        assert not any(stale(await client.get(url, headers=viewer)).values())
    clock.advance(days=11)  # 31 days after the first estimates, 11 after C's
    for url in (ranking, f"{scored['base']}/ideas"):
        flags = stale(await client.get(url, headers=viewer))
        assert flags.pop("C") is False and all(flags.values()), flags
    clock.advance(days=20)
    for url in (ranking, f"{scored['base']}/ideas"):
        assert all(stale(await client.get(url, headers=viewer)).values())


@pytest.fixture(scope="module")
def generations_database_url(make_database) -> str:
    url = make_database("generations")
    migrate.upgrade(url)
    return url


async def test_the_generation_moves_once_per_committed_transaction_and_not_on_rollback(generations_database_url):
    conn = await asyncpg.connect(generations_database_url)
    try:
        portfolio = await conn.fetchval("INSERT INTO access.portfolios DEFAULT VALUES RETURNING id")
        await conn.execute(
            "INSERT INTO scoring.portfolios (id, name, currency, phase_labels) VALUES ($1, 'G', 'EUR', '{}')", portfolio
        )

        async def generation() -> int:
            found = "SELECT generation FROM scoring.read_generations WHERE portfolio_id = $1"
            return await conn.fetchval(found, portfolio) or 0

        assert await generation() == 1
        async with conn.transaction():
            for ref in ("G-1", "G-2"):
                await conn.execute(
                    "INSERT INTO scoring.ideas (portfolio_id, ref, title, phases) VALUES ($1, $2, 't', '{improve}')",
                    portfolio,
                    ref,
                )
            await conn.execute("UPDATE scoring.ideas SET title = 'u' WHERE portfolio_id = $1", portfolio)
            assert await generation() == 1  # moved when the transaction commits, not before
        assert await generation() == 2
        with pytest.raises(ZeroDivisionError):
            async with conn.transaction():
                await conn.execute("DELETE FROM scoring.ideas WHERE portfolio_id = $1", portfolio)
                raise ZeroDivisionError
        assert await generation() == 2
        assert await conn.fetchval("SELECT count(*) FROM scoring.read_touches") == 0
        model = await conn.fetchval(
            "INSERT INTO scoring.models (portfolio_id, name) VALUES ($1, 'M') RETURNING id", portfolio
        )
        assert await generation() == 3
        version = await conn.fetchval(
            "INSERT INTO scoring.model_versions (model_id, version, definition, created_by) "
            "VALUES ($1, 1, '{}', 'x') RETURNING id",
            model,
        )
        assert await generation() == 4
        idea = await conn.fetchval("SELECT id FROM scoring.ideas WHERE portfolio_id = $1 LIMIT 1", portfolio)
        await conn.execute(
            "INSERT INTO scoring.scores (model_version_id, idea_id, ref, score) VALUES ($1, $2, 'G-1', 1)",
            version,
            idea,
        )
        assert await generation() == 5
        await conn.execute("UPDATE scoring.scores SET score = 2 WHERE model_version_id = $1", version)
        assert await generation() == 6
        await conn.execute("DELETE FROM scoring.models WHERE id = $1", model)  # its versions and scores go too
        assert await generation() == 7
        # Emptied by hand, a table has no rows to name the portfolios: every one moves (migration 0027).
        other = await conn.fetchval("INSERT INTO access.portfolios DEFAULT VALUES RETURNING id")
        async with conn.transaction():
            await conn.execute("TRUNCATE scoring.scores")
            assert await generation() == 7
        assert await generation() == 8
        assert (
            await conn.fetchval("SELECT generation FROM scoring.read_generations WHERE portfolio_id = $1", other) == 1
        )
        assert await conn.fetchval("SELECT count(*) FROM scoring.read_touches") == 0
    finally:
        await conn.close()
