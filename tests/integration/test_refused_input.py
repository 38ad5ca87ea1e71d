"""Input that cannot crash the server, a metrics exposition that cannot be grown, refusals that stay quiet in the log."""

from __future__ import annotations

import logging
import re

import pytest

pytestmark = pytest.mark.integration

# One endpoint per service that reads a JSON document.
JSON_ENDPOINTS = [
    ("POST", "/scoring/portfolios"),
    ("POST", "/roadmap/scenarios"),
    ("POST", "/integrations/connections"),
]

DEEP_ARRAY = b"[" * 50_000 + b"]" * 50_000
DEEP_OBJECT = b'{"name": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}"
NOT_UTF8 = b'{"name": "caf\xe9 \xff\xfe"}'


async def count_rows(conn) -> int:
    return await conn.fetchval(
        "SELECT (SELECT count(*) FROM scoring.portfolios) + (SELECT count(*) FROM roadmap.scenarios)"
        " + (SELECT count(*) FROM integrations.connections)"
    )


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (DEEP_ARRAY, "application/json", "nests deeper than 64 levels"),
        (DEEP_OBJECT, "application/json", "nests deeper than 64 levels"),
        (DEEP_ARRAY, "text/plain", "nests deeper than 64 levels"),  # the content type does not decide
        (NOT_UTF8, "application/json", "is not valid UTF-8 (byte 13)"),
    ],
    ids=["50,000-deep-array", "50,000-deep-object", "deep-as-text", "invalid-utf-8"],
)
async def test_a_body_no_parser_should_follow_is_a_400_problem_and_writes_nothing(
    client, token_for, conn, method, path, body, content_type, message
):
    before = await count_rows(conn)
    response = await client.request(
        method, path, content=body, headers={**token_for("admin"), "Content-Type": content_type}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/malformed-body")
    assert response.json()["errors"] == [{"field": "body", "message": message, "row": None, "column": None}]
    assert await count_rows(conn) == before


async def test_a_document_nested_as_deep_as_allowed_is_read_as_usual(client, token_for):
    # 64 levels is the limit: the body is then judged by its schema, as any other.
    body = b'{"name": "Deep", "extra": ' + b"[" * 63 + b"]" * 63 + b"}"
    response = await client.post(
        "/scoring/portfolios", content=body, headers={**token_for("admin"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "extra", response.text


def series(exposition: str) -> set[str]:
    """The label sets of the request metrics, without their values."""
    return set(re.findall(r"^(http_request[a-z_]*\{[^}]*\})", exposition, flags=re.MULTILINE))


async def test_made_up_methods_and_paths_do_not_grow_the_metrics(client):
    async def made_up(n: int) -> None:
        await client.request(f"MADEUP{n}", f"/made/up/{n}")
        await client.request("GET", f"/scoring/made-up-{n}")
        await client.request(f"X{n}", "/scoring/portfolios")
        await client.get("/metrics")

    await made_up(0)  # the first of each kind adds its series, once
    before = series((await client.get("/metrics")).text)
    for n in range(1, 200):
        await made_up(n)
    after = series((await client.get("/metrics")).text)
    assert after == before
    assert not any("MADEUP" in s or "made-up" in s or "/made/" in s for s in after)
    assert any('method="other"' in s and 'route="unmatched"' in s for s in after)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/scoring/portfolios", None, 401),
        ("GET", "/scoring/portfolios/00000000-0000-0000-0000-000000000000", None, 404),
        ("POST", "/scoring/portfolios", {"name": 5}, 422),
        ("POST", "/scoring/portfolios", b"{not json", 400),
        ("DELETE", "/scoring/portfolios", None, 405),
    ],
)
async def test_a_refusal_is_one_info_line_without_a_traceback(client, token_for, caplog, method, path, body, status):
    headers = {} if status == 401 else token_for("admin")
    with caplog.at_level(logging.DEBUG):
        if isinstance(body, bytes):
            response = await client.request(
                method, path, content=body, headers={**headers, "Content-Type": "application/json"}
            )
        else:
            response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code == status, response.text
    ours = [record for record in caplog.records if record.name.startswith(("roadmap", "litestar"))]
    assert [(record.name, record.levelno) for record in ours] == [("roadmap.scoring.access", logging.INFO)]
    assert ours[0].exc_info is None
    line = ours[0].fields
    assert line["status"] == status and line["problem"] and line["detail"]
