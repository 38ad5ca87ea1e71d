"""Every endpoint of every service, with every role, no token, an expired one and a forged one.

The endpoints come from the services' own OpenAPI documents, so a new endpoint is covered the
day it is added. The rule is the design's: anyone signed in reads; programme managers and
admins change things; only leaders decide phase budgets; Jira's webhooks are authenticated by
their signature instead. An allowed caller may still get 404 or 422 here (the ids and bodies
are made up); what it must never get is 401 or 403, and a refused one must get exactly that.
"""

from __future__ import annotations

import re
import time
import uuid

import jwt
import pytest

pytestmark = pytest.mark.integration

ROLES = ("viewer", "programme_manager", "leader", "delivery", "admin")
SIGNED_BY_JIRA = {"receiveJiraWebhook"}
LEADERS_ONLY = {"decidePhase"}


def allowed_roles(method: str, operation: str) -> set[str]:
    if operation in LEADERS_ONLY:
        return {"leader"}
    if method == "get":
        return set(ROLES)
    return {"programme_manager", "admin"}


async def endpoints(client) -> list[tuple[str, str, str]]:
    found = []
    for service in ("scoring", "roadmap", "integrations"):
        document = (await client.get(f"/{service}/schema/openapi.json")).json()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                concrete = re.sub(r"\{phase\}", "improve", path)
                concrete = re.sub(r"\{ref\}", "X-1", concrete)
                concrete = re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), concrete)
                found.append((method, concrete, operation["operationId"]))
    return found


async def call(client, method: str, path: str, headers: dict[str, str]):
    params = {"ids": [str(uuid.uuid4()), str(uuid.uuid4())]} if path.endswith("/compare") else None
    body = None if method in ("get", "delete") else {}
    return await client.request(method.upper(), path, json=body, params=params, headers=headers)


async def test_every_endpoint_lets_in_exactly_the_roles_the_design_allows(client, token_for):
    checked = 0
    for method, path, operation in await endpoints(client):
        if operation in SIGNED_BY_JIRA:
            continue
        for role in ROLES:
            response = await call(client, method, path, token_for(role))
            if role in allowed_roles(method, operation):
                assert response.status_code not in (401, 403), (operation, role, response.text)
            else:
                assert response.status_code == 403, (operation, role, response.status_code, response.text)
                assert response.headers["content-type"].startswith("application/problem+json")
            checked += 1
    assert checked > 200  # the documents really listed the services' endpoints


async def test_no_endpoint_answers_without_a_valid_token(client, auth_settings):
    now = int(time.time())
    claims = {"sub": "x", "roles": ["admin"], "iss": auth_settings.issuer, "aud": auth_settings.audience}
    expired = jwt.encode({**claims, "exp": now - 5}, auth_settings.signing_key, algorithm="HS256")
    forged = jwt.encode({**claims, "exp": now + 300}, "not-our-key-" + "z" * 32, algorithm="HS256")
    for method, path, operation in await endpoints(client):
        if operation in SIGNED_BY_JIRA:
            continue
        for headers in ({}, {"Authorization": f"Bearer {expired}"}, {"Authorization": f"Bearer {forged}"}):
            response = await call(client, method, path, headers)
            assert response.status_code == 401, (operation, headers.keys(), response.status_code)


async def test_the_jira_webhook_refuses_an_unsigned_delivery(client):
    response = await client.post(
        f"/integrations/webhooks/{uuid.uuid4()}", content=b"{}", headers={"X-Atlassian-Webhook-Identifier": "x"}
    )
    assert response.status_code in (401, 404)
