"""A ranking page reads its ideas from the score rows alone (migration 0025; issue 14): each
score row holds copies of what the page shows of its idea and its breakdown as shown. After
every kind of write, from the API or by hand in SQL, every ranking row of every model version
must show its idea as the idea's own endpoints do (read from the ideas and the stored
breakdowns, not from the copies), and a database upgraded from before the copies must answer
a ranking exactly as one that had them all along.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg
import msgspec
import pytest
from roadmap_fixtures import EDITOR, backlog_idea, scored_portfolio

from services.kit import migrate
from services.kit.auth import Caller, Role
from services.kit.clock import system_clock
from services.kit.db import connect
from services.scoring import models_service, rankings, service
from services.scoring.domain import PHASES, Estimates, IdeaDraft, JourneyContext
from services.scoring.presenters import ranking_out

pytestmark = pytest.mark.integration

# Scores whose contributions carry binary noise (0.23 + 0.46): the shown breakdown rounds it.
NOISY = {
    "kind": "weighted",
    "criteria": [{"field": "customer_impact", "weight": 0.23}, {"field": "reach", "weight": 0.46}],
}


async def walk(client, url: str, headers, **params) -> list[dict]:
    """Every row of a ranking, two a page, following cursors (the keyset pages)."""
    rows, cursor = [], None
    while True:
        page = await client.get(
            url, params={**params, "pageSize": 2, **({"cursor": cursor} if cursor else {})}, headers=headers
        )
        assert page.status_code == 200, page.text
        rows += page.json()["items"]
        cursor = page.json()["nextCursor"]
        if cursor is None:
            return rows


async def assert_rows_show_their_ideas(client, base: str, headers, *, after: str) -> None:
    ideas = (await client.get(f"{base}/ideas", params={"pageSize": 100}, headers=headers)).json()["items"]
    by_ref = {idea["ref"]: idea for idea in ideas}
    models = (await client.get(f"{base}/models", headers=headers)).json()
    assert models, after
    for model in models:
        for version in range(1, model["versions"] + 1):
            url = f"{base}/models/{model['id']}/ranking"
            rows = await walk(client, url, headers, version=version)
            assert sorted(row["ref"] for row in rows) == sorted(by_ref), after
            by_number = await client.get(url, params={"version": version, "pageSize": 100}, headers=headers)
            assert by_number.json()["items"] == rows, after  # offset and keyset pages agree
            for row in rows:
                idea = by_ref[row["ref"]]
                shown = {key: row[key] for key in ("title", "persona", "journeyStage", "touchpoint", "stale")}
                expected = {"title": idea["title"], **idea["journey"], "stale": idea["stale"]}
                assert shown == {key: expected.get(key) for key in shown}, (after, row["ref"])
                scores = (await client.get(f"{base}/ideas/{row['ref']}/scores", headers=headers)).json()
                [own] = [s for s in scores if s["modelId"] == model["id"] and s["modelVersion"] == version]
                assert (row["score"], row["breakdown"]) == (own["score"], own["breakdown"]), (after, row["ref"])


async def test_every_ranking_row_shows_its_idea_after_every_kind_of_write(client, conn, token_for, clock):
    scored = await scored_portfolio(client, token_for)
    base, editor, viewer = scored["base"], token_for(EDITOR), token_for("viewer")
    noisy = await client.post(f"{base}/models", json={"name": "Noisy", "definition": NOISY}, headers=editor)
    assert noisy.status_code == 201, noisy.text
    model_url = f"{base}/models/{scored['modelId']}"
    csv_headers = {**editor, "Content-Type": "text/csv"}
    writes = [
        ("create an idea", "POST", f"{base}/ideas", backlog_idea("D", reach=900, impact=9, cost=2000, phases=["improve"])),
        ("retitle an idea", "PATCH", f"{base}/ideas/A1", {"title": "Renamed"}),
        ("move an idea's journey", "PATCH", f"{base}/ideas/C", {"journey": {"persona": "Retiree", "touchpoint": "app"}}),
        ("re-estimate an idea", "PATCH", f"{base}/ideas/A2", {"estimates": {"reach": 99_000}}),
        ("revise a model", "PUT", model_url, {"definition": {"kind": "rice", "quadrants": {"effortField": "cost"}}}),
        ("set a review cadence", "PATCH", base, {"reviewEveryDays": 30}),
        ("delete an idea", "DELETE", f"{base}/ideas/B", None),
    ]  # fmt: skip
    await assert_rows_show_their_ideas(client, base, viewer, after="the start")
    for name, method, url, body in writes:
        done = await client.request(method, url, json=body, headers=editor)
        assert done.status_code < 300, (name, done.text)
        await assert_rows_show_their_ideas(client, base, viewer, after=name)

    clock.advance(days=31)
    await assert_rows_show_their_ideas(client, base, viewer, after="estimates went stale")
    rows = "ref,title,customer_impact,reach,persona\nA1,Imported title,7,1200,Student\nF,New from CSV,3,50,Student\n"
    upserted = await client.post(f"{base}/ideas.csv", params={"mode": "upsert"}, content=rows, headers=csv_headers)
    assert upserted.status_code == 200, upserted.text
    await assert_rows_show_their_ideas(client, base, viewer, after="an upsert import")

    # Writers other than the application: a trigger carries an idea's change to its score rows...
    portfolio = scored["portfolioId"]
    await conn.execute(
        "UPDATE scoring.ideas SET title = 'By hand', journey_stage = 'renewal', estimated_at = now() "
        "WHERE portfolio_id = $1 AND ref IN ('A2', 'C')",
        portfolio,
    )
    await assert_rows_show_their_ideas(client, base, viewer, after="ideas updated by hand")
    # ...and a score row written without the copies gets them from its idea.
    written = await conn.execute(
        """
        WITH gone AS (
            DELETE FROM scoring.scores s USING scoring.ideas i
            WHERE i.id = s.idea_id AND i.portfolio_id = $1 AND i.ref = 'E'
            RETURNING s.model_version_id, s.idea_id, s.ref, s.score, s.breakdown, s.missing, s.reason
        )
        INSERT INTO scoring.scores (model_version_id, idea_id, ref, score, breakdown, missing, reason)
        SELECT * FROM gone
        """,
        UUID(portfolio),
    )
    assert written == "INSERT 0 3", written
    await assert_rows_show_their_ideas(client, base, viewer, after="scores written by hand")


# --- upgrading a database that has scores ---------------------------------------------------

CALLER = Caller(subject="upgrade", roles=frozenset({Role.PROGRAMME_MANAGER}))
PAGE = 1000


def draft(n: int) -> IdeaDraft:
    return IdeaDraft(
        ref=f"U-{n}",
        title=f"Idea {n}",
        description="",
        journey=JourneyContext(persona="Student", journey_stage="usage", touchpoint=f"touchpoint {n % 3}"),
        estimates=Estimates(customer_impact=n % 7 + 1, reach=100 * n + 17, confidence=0.7, effort={"web": n}),
        phases=PHASES,
        tags=(),
    )


async def ranking_bytes(conn: asyncpg.Connection, portfolio_id, model_id, page_size: int) -> list[bytes]:
    pages, cursor = [], None
    while True:
        page = await rankings.ranking(
            conn, CALLER, portfolio_id, model_id, version=None, page=1, page_size=page_size, cursor=cursor,
            now=system_clock(),
        )  # fmt: skip
        pages.append(msgspec.json.encode(ranking_out(page, page=1, page_size=page_size)))
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def scored_for_upgrade(url: str, count: int) -> tuple[UUID, UUID, list[bytes]]:
    """A portfolio of `count` ideas under a model with noisy contributions, and its ranking's pages."""
    conn = await connect(url)
    try:
        async with conn.transaction():
            portfolio = await service.create_portfolio(
                conn, CALLER, name="Upgrade", currency="EUR", phase_labels={p: p for p in PHASES}
            )
            await service.create_ideas(conn, CALLER, portfolio.id, [draft(n) for n in range(1, count + 1)])
            version = await models_service.create_model(conn, CALLER, portfolio.id, name="Noisy", definition=NOISY)
        stored = [msgspec.json.decode(text) for text in await conn.fetchval(
            "SELECT array_agg(breakdown::text) FROM scoring.scores WHERE model_version_id = $1", version.id
        )]  # fmt: skip
        # Some contribution carries binary noise, which only a rounded (shown) breakdown drops.
        assert any(len(repr(part["contribution"])) > 12 for parts in stored for part in parts), stored
        return portfolio.id, version.model_id, await ranking_bytes(conn, portfolio.id, version.model_id, PAGE)
    finally:
        await conn.close()


async def ranking_of(url: str, portfolio_id: UUID, model_id: UUID) -> list[bytes]:
    conn = await connect(url)
    try:
        return await ranking_bytes(conn, portfolio_id, model_id, PAGE)
    finally:
        await conn.close()


def test_an_upgraded_database_answers_a_ranking_as_before(make_database):
    url = make_database("ranking_rows")
    migrate.upgrade(url)
    # More scores than the migration fills in one batch (5,000), so it takes several.
    portfolio_id, model_id, before = asyncio.run(scored_for_upgrade(url, 5003))
    assert len(before) == 6
    migrate.downgrade(url, "0024")
    with pytest.raises(asyncpg.UndefinedColumnError):
        asyncio.run(ranking_of(url, portfolio_id, model_id))
    migrate.upgrade(url)
    assert asyncio.run(ranking_of(url, portfolio_id, model_id)) == before


async def test_a_walk_reaches_the_unscored_ideas_when_fewer_are_scored_than_when_it_started(client, token_for):
    # A page the walk's count places among the scored ideas reads only their range; if it comes
    # back short, because ideas lost their scores since the walk started, the unscored follow.
    scored = await scored_portfolio(client, token_for)
    base, editor, viewer = scored["base"], token_for(EDITOR), token_for("viewer")
    url = f"{base}/models/{scored['modelId']}/ranking"
    first = (await client.get(url, params={"pageSize": 1}, headers=viewer)).json()
    assert first["scored"] == 4, first
    ranked = (await client.get(url, params={"pageSize": 10}, headers=viewer)).json()["items"]
    for item in ranked[2:4]:
        cleared = await client.patch(
            f"{base}/ideas/{item['ref']}", json={"estimates": {"confidence": None}}, headers=editor
        )
        assert cleared.status_code == 200, cleared.text
    now = (await client.get(url, params={"pageSize": 10}, headers=viewer)).json()
    assert now["scored"] == 2, now
    page = await client.get(url, params={"pageSize": 2, "cursor": first["nextCursor"]}, headers=viewer)
    assert page.status_code == 200, page.text
    assert [item["ref"] for item in page.json()["items"]] == [item["ref"] for item in now["items"][1:3]]
    assert page.json()["items"][1]["score"] is None and page.json()["nextCursor"]


async def retitle_by_hand(url: str, portfolio_id: UUID, model_id: UUID) -> list[str]:
    """Titles of the ranking's rows after a committed hand-written transaction retitled every idea."""
    conn = await connect(url)
    try:
        async with conn.transaction():
            await conn.execute(
                "UPDATE scoring.ideas SET title = 'By hand ' || ref WHERE portfolio_id = $1", portfolio_id
            )
        page = await rankings.ranking(
            conn, CALLER, portfolio_id, model_id, version=None, page=1, page_size=50, now=system_clock()
        )
        return [row.title for row in page.rows]
    finally:
        await conn.close()


def test_an_idea_changed_by_hand_reaches_its_score_rows_as_its_transaction_commits(make_database):
    # The test suite's other requests never commit, and run the copy at each statement instead
    # (tests/conftest.py); here it runs as in production, deferred to the commit.
    url = make_database("ranking_copies")
    migrate.upgrade(url)
    portfolio_id, model_id, _ = asyncio.run(scored_for_upgrade(url, 11))
    titles = asyncio.run(retitle_by_hand(url, portfolio_id, model_id))
    assert sorted(titles) == sorted(f"By hand U-{n}" for n in range(1, 12))
