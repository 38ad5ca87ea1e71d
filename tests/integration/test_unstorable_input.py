"""Input PostgreSQL cannot store, and bodies that are missing or unreadable: clear 4xx, nothing written."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

EDITOR = "programme_manager"
NUL_MESSAGE = "must not contain the NUL character (U+0000)"


@pytest.fixture
async def portfolio(client, token_for) -> dict:
    response = await client.post("/scoring/portfolios", json={"name": "Guarded"}, headers=token_for(EDITOR))
    assert response.status_code == 201, response.text
    return response.json()


def only_error(response) -> dict:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    (error,) = response.json()["errors"]
    return error


async def test_a_nul_in_a_query_parameter_is_named(client, token_for, portfolio):
    response = await client.get(
        f"/scoring/portfolios/{portfolio['id']}/ideas",
        params={"persona": "Busy\x00parent"},
        headers=token_for("viewer"),
    )
    assert only_error(response) == {"field": "query.persona", "message": NUL_MESSAGE, "row": None, "column": None}


async def test_a_nul_in_a_path_segment_is_named(client, token_for, portfolio):
    response = await client.get(f"/scoring/portfolios/{portfolio['id']}/ideas/A%001", headers=token_for("viewer"))
    assert only_error(response)["field"] == "path.ref"


async def test_a_nul_deep_in_a_json_body_is_named_by_its_path_and_nothing_is_written(
    client, token_for, portfolio, conn
):
    ideas = [{"ref": "OK-1", "title": "Fine"}, {"ref": "BAD-2", "title": "Fine", "journey": {"painPoint": "waits\x00"}}]
    response = await client.post(
        f"/scoring/portfolios/{portfolio['id']}/ideas/bulk", json={"ideas": ideas}, headers=token_for(EDITOR)
    )
    assert only_error(response)["field"] == "ideas[1].journey.painPoint"
    assert await conn.fetchval("SELECT count(*) FROM scoring.ideas WHERE portfolio_id = $1", portfolio["id"]) == 0


async def test_a_nul_in_a_csv_import_is_named_by_its_row(client, token_for, portfolio, conn):
    body = b"ref,title\nC-1,Fine\nC-2,Bro\x00ken\n"
    response = await client.post(
        f"/scoring/portfolios/{portfolio['id']}/ideas.csv",
        content=body,
        headers={**token_for(EDITOR), "Content-Type": "text/csv"},
    )
    error = only_error(response)
    assert (error["field"], error["row"]) == ("body", 3)  # the spreadsheet's row: the header is row 1
    assert await conn.fetchval("SELECT count(*) FROM scoring.ideas WHERE portfolio_id = $1", portfolio["id"]) == 0


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(client, token_for):
    # `\\u0000` in JSON is a backslash followed by "u0000": storable, so it is accepted as sent.
    response = await client.post(
        "/scoring/portfolios",
        content=b'{"name": "Literal \\\\u0000 text"}',
        headers={**token_for(EDITOR), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Literal \\u0000 text"


async def test_a_missing_body_is_reported_as_missing(client, token_for):
    response = await client.post("/scoring/portfolios", headers=token_for(EDITOR))
    assert only_error(response) == {
        "field": "body",
        "message": "a request body is required",
        "row": None,
        "column": None,
    }


async def test_unreadable_json_is_a_malformed_body_problem(client, token_for):
    response = await client.post(
        "/scoring/portfolios", content=b"{not json", headers={**token_for(EDITOR), "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/malformed-body")
