"""What a page read costs in statements sent to PostgreSQL, counted on every connection of the pool.

A read needs no BEGIN and COMMIT, and a connection going back to the pool needs no reset
query: each of those is a round trip on every request (issue 14). The hot reads (a ranking
page, a filtered ideas page, a run being polled) check the caller's membership inside their
first statement, and the token check sends nothing. Writes still run in one transaction each.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from roadmap_fixtures import EDITOR, scenario_body, scored_portfolio

from services.kit import migrate
from services.kit.db import PoolSource
from services.single_process import create_single_process_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def reads_database_url(make_database) -> str:
    url = make_database("reads")
    migrate.upgrade(url)
    return url


class Counted:
    """An HTTP client whose every request also returns the statements it sent to the database."""

    def __init__(self, http: httpx.AsyncClient, sent: list[str]) -> None:
        self.http, self.sent = http, sent

    async def __call__(self, method: str, url: str, **kwargs) -> tuple[httpx.Response, list[str]]:
        self.sent.clear()
        response = await self.http.request(method, url, **kwargs)
        return response, list(self.sent)


def verbs(statements: list[str]) -> list[str]:
    return [query.split()[0].rstrip(";").upper() for query in statements]


@contextlib.asynccontextmanager
async def counting(settings, reads_database_url) -> AsyncIterator[Counted]:
    """The app on a pool of one connection whose statements are counted (the app's lifespan runs
    in the test's own task, so it is a context, not a fixture)."""
    # Two connections: creating a run reads the scores through the scoring API while it holds one.
    two_connections = msgspec.structs.replace(settings, database_url=reads_database_url, db_pool_min=2, db_pool_max=2)
    source = await PoolSource.open(two_connections)
    sent: list[str] = []
    async with source.pool.acquire() as first, source.pool.acquire() as second:
        for conn in (first, second):
            conn.add_query_logger(lambda logged: sent.append(logged.query.strip()))
    app = create_single_process_app(two_connections, source=source, run_jobs=False)
    try:
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield Counted(http, sent)
    finally:
        await source.close()


async def test_a_ranking_page_is_read_without_begin_commit_or_reset_and_a_write_is_one_transaction(
    settings, reads_database_url, token_for
):
    async with counting(settings, reads_database_url) as counted:
        scored = await scored_portfolio(counted.http, token_for)
        url = f"{scored['base']}/models/{scored['modelId']}/ranking"
        page, read = await counted("GET", url, params={"pageSize": 2}, headers=token_for("viewer"))
        renamed, written = await counted("PATCH", scored["base"], json={"name": "Renamed"}, headers=token_for(EDITOR))
        assert page.status_code == 200 and renamed.status_code == 200, (page.text, renamed.text)
        assert read and all(verb in {"SELECT", "WITH"} for verb in verbs(read)), read  # no BEGIN, COMMIT
        assert not any("RESET ALL" in query.upper() for query in read), read  # no reset on release
        assert verbs(written)[0] == "BEGIN" and verbs(written)[-1] == "COMMIT", written
        assert verbs(written).count("BEGIN") == 1 and not any("RESET ALL" in q.upper() for q in written), written


async def test_hot_reads_check_membership_in_their_own_statements(settings, reads_database_url, token_for):
    async with counting(settings, reads_database_url) as counted:
        scored = await scored_portfolio(counted.http, token_for)
        viewer = token_for("viewer")
        url = f"{scored['base']}/models/{scored['modelId']}/ranking"

        first, first_sent = await counted("GET", url, params={"pageSize": 2}, headers=viewer)
        assert first.status_code == 200 and first.json()["nextCursor"], first.text
        # The access check with the model version, its stored totals and the review cadence; the page.
        assert len(first_sent) == 2, first_sent

        cursor = first.json()["nextCursor"]
        second, second_sent = await counted("GET", url, params={"pageSize": 2, "cursor": cursor}, headers=viewer)
        assert second.status_code == 200, second.text
        assert len(second_sent) == 2, second_sent  # the totals travel in the cursor
        # The last page crosses from the scored ideas to the unscored one (E), still in one statement.
        cursor = second.json()["nextCursor"]
        last, last_sent = await counted("GET", url, params={"pageSize": 2, "cursor": cursor}, headers=viewer)
        assert last.status_code == 200 and len(last_sent) == 2, (last.text, last_sent)
        walked = [item["ref"] for page in (first, second, last) for item in page.json()["items"]]
        whole = (await counted.http.get(url, params={"pageSize": 10}, headers=viewer)).json()["items"]
        assert (
            walked == [item["ref"] for item in whole] and whole[-1]["score"] is None and not last.json()["nextCursor"]
        )
        assert first.json()["total"] == second.json()["total"] == 5

        ideas, ideas_sent = await counted(
            "GET", f"{scored['base']}/ideas", params={"persona": "Busy parent", "pageSize": 2}, headers=viewer
        )
        assert ideas.status_code == 200 and ideas.json()["total"] == 5 and len(ideas.json()["items"]) == 2, ideas.text
        assert len(ideas_sent) == 2, ideas_sent  # the access check with the cadence; the page with its count

        scenario = await counted.http.post("/roadmap/scenarios", json=scenario_body(scored), headers=token_for(EDITOR))
        started = await counted.http.post(
            f"/roadmap/scenarios/{scenario.json()['id']}/runs", json={}, headers=token_for(EDITOR)
        )
        assert started.status_code == 202, started.text
        run, run_sent = await counted("GET", f"/roadmap/runs/{started.json()['id']}", headers=viewer)
        assert run.status_code == 200 and run.json()["status"] == "queued", run.text
        assert len(run_sent) == 1, run_sent  # the run with the caller's roles on its portfolio


async def test_a_folded_access_check_keeps_its_404_and_403(settings, reads_database_url, token_for):
    async with counting(settings, reads_database_url) as counted:
        scored = await scored_portfolio(counted.http, token_for)
        url = f"{scored['base']}/models/{scored['modelId']}/ranking"
        stranger = token_for("viewer", subject="stranger@example.com")
        hidden, _ = await counted("GET", url, headers=stranger)
        ideas_hidden, _ = await counted("GET", f"{scored['base']}/ideas", headers=stranger)
        assert hidden.status_code == ideas_hidden.status_code == 404, (hidden.text, ideas_hidden.text)
        assert hidden.json()["detail"] == f"There is no portfolio {scored['portfolioId']}.", hidden.text
        missing_model, sent = await counted(
            "GET", f"{scored['base']}/models/00000000-0000-0000-0000-000000000000/ranking", headers=token_for("viewer")
        )
        assert missing_model.status_code == 404 and "scoring model" in missing_model.json()["detail"], (
            missing_model.text
        )
        assert len(sent) == 1, sent


async def test_a_page_read_again_while_nothing_changed_is_one_statement(settings, reads_database_url, token_for):
    async with counting(settings, reads_database_url) as counted:
        scored = await scored_portfolio(counted.http, token_for)
        viewer = token_for("viewer")
        ranking = f"{scored['base']}/models/{scored['modelId']}/ranking"
        ideas = f"{scored['base']}/ideas"
        for url, params in ((ranking, {"pageSize": 2}), (ideas, {"persona": "Busy parent", "pageSize": 2})):
            first, first_sent = await counted("GET", url, params=params, headers=viewer)
            again, again_sent = await counted("GET", url, params=params, headers=viewer)
            assert first.status_code == again.status_code == 200, again.text
            assert len(first_sent) == 2 and len(again_sent) == 1, (first_sent, again_sent)
            assert again.content == first.content
        # A committed change moves the portfolio's generation: the next read reads the page again.
        renamed = await counted.http.patch(f"{ideas}/A1", json={"title": "Renamed"}, headers=token_for(EDITOR))
        assert renamed.status_code == 200, renamed.text
        changed, changed_sent = await counted("GET", ranking, params={"pageSize": 10}, headers=viewer)
        assert len(changed_sent) == 2 and "Renamed" in {item["title"] for item in changed.json()["items"]}
        # The page kept before the change: its first statement finds it out of date, then the
        # page is read as if none were kept.
        kept, kept_sent = await counted("GET", ranking, params={"pageSize": 2}, headers=viewer)
        assert kept.status_code == 200 and len(kept_sent) == 3, kept_sent
        assert kept.json()["items"] == changed.json()["items"][:2]
        listed, listed_sent = await counted(
            "GET", ideas, params={"persona": "Busy parent", "pageSize": 2}, headers=viewer
        )
        assert len(listed_sent) == 2 and listed.json()["items"][0]["title"] == "Renamed", listed.text
