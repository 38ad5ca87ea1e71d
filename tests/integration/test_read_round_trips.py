"""What a page read costs in statements sent to PostgreSQL, counted on the pool's one connection.

A read needs no BEGIN and COMMIT, and a connection going back to the pool needs no reset
query: each of those is a round trip on every request (issue 14). Writes still run in one
transaction each.
"""

from __future__ import annotations

import httpx
import msgspec
import pytest
from roadmap_fixtures import EDITOR, scored_portfolio

from services.kit import migrate
from services.kit.db import PoolSource
from services.single_process import create_single_process_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def reads_database_url(make_database) -> str:
    url = make_database("reads")
    migrate.upgrade(url)
    return url


async def test_a_ranking_page_is_read_without_begin_commit_or_reset_and_a_write_is_one_transaction(
    settings, reads_database_url, token_for
):
    one_connection = msgspec.structs.replace(settings, database_url=reads_database_url, db_pool_min=1, db_pool_max=1)
    source = await PoolSource.open(one_connection)
    sent: list[str] = []
    async with source.pool.acquire() as conn:
        conn.add_query_logger(lambda logged: sent.append(logged.query.strip()))
    app = create_single_process_app(one_connection, source=source, run_jobs=False)
    try:
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                scored = await scored_portfolio(http, token_for)
                url = f"{scored['base']}/models/{scored['modelId']}/ranking"
                sent.clear()
                page = await http.get(url, params={"pageSize": 2}, headers=token_for("viewer"))
                read = list(sent)
                sent.clear()
                renamed = await http.patch(
                    scored["base"], json={"name": "Renamed"}, headers=token_for(EDITOR)
                )
                written = list(sent)
    finally:
        await source.close()
    assert page.status_code == 200 and renamed.status_code == 200, (page.text, renamed.text)
    verbs = [query.split()[0].rstrip(";").upper() for query in read]
    assert verbs and all(verb in {"SELECT", "WITH"} for verb in verbs), read  # no BEGIN, COMMIT
    assert not any("RESET ALL" in query.upper() for query in read), read  # no reset on release
    written_verbs = [query.split()[0].rstrip(";").upper() for query in written]
    assert written_verbs[0] == "BEGIN" and written_verbs[-1] == "COMMIT", written
    assert written_verbs.count("BEGIN") == 1 and not any("RESET ALL" in q.upper() for q in written), written
