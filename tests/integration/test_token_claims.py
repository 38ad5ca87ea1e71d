"""Tokens the server refuses through HTTP: claims of the wrong type, lifetimes beyond the operator's maximum."""

from __future__ import annotations

import time

import jwt
import pytest

pytestmark = pytest.mark.integration


def bearer(auth_settings, **claims: object) -> dict[str, str]:
    now = int(time.time())
    base = {
        "sub": "mallory@example.com",
        "iss": auth_settings.issuer,
        "aud": auth_settings.audience,
        "iat": now,
        "exp": now + 60,
    }
    return {"Authorization": "Bearer " + jwt.encode({**base, **claims}, auth_settings.signing_key, algorithm="HS256")}


@pytest.mark.parametrize("claim", ["roles", "groups"])
@pytest.mark.parametrize("value", [5, {"admin": 1}, None, ["admin", {"admin": 1}]])
async def test_a_roles_or_groups_claim_of_the_wrong_type_is_a_401(client, auth_settings, claim, value):
    other = {"groups": ["cx"]} if claim == "roles" else {"roles": ["admin"]}
    response = await client.get("/scoring/portfolios", headers=bearer(auth_settings, **{claim: value, **other}))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json" and claim in response.json()["detail"]


async def test_a_dict_of_roles_never_reads_as_admin(client, auth_settings, token_for):
    made = await client.post("/scoring/portfolios", json={"name": "Not yours"}, headers=token_for("programme_manager"))
    assert made.status_code == 201
    response = await client.delete(
        f"/scoring/portfolios/{made.json()['id']}", headers=bearer(auth_settings, roles={"admin": 1})
    )
    assert response.status_code == 401
    assert (await client.get(f"/scoring/portfolios/{made.json()['id']}", headers=token_for("admin"))).status_code == 200


@pytest.mark.parametrize(
    "times",
    [
        {"iat": int(time.time()), "exp": int(time.time()) + 25 * 3600},
        {"iat": int(time.time()) - 3600, "exp": int(time.time()) + 24 * 3600},
    ],
    ids=["a-day-and-an-hour", "issued-an-hour-ago-for-25-hours"],
)
async def test_a_token_meant_to_live_longer_than_a_day_is_a_401(client, auth_settings, times):
    response = await client.get("/scoring/portfolios", headers=bearer(auth_settings, roles=["admin"], **times))
    assert response.status_code == 401 and "ROADMAP_JWT_MAX_LIFETIME_SECONDS" in response.json()["detail"]


async def test_a_token_without_iat_counts_the_lifetime_still_ahead(client, auth_settings):
    now = int(time.time())
    claims = {"sub": "x", "roles": ["admin"], "iss": auth_settings.issuer, "aud": auth_settings.audience}
    for exp, status in ((now + 23 * 3600, 200), (now + 25 * 3600, 401)):
        token = jwt.encode({**claims, "exp": exp}, auth_settings.signing_key, algorithm="HS256")
        response = await client.get("/scoring/portfolios", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status, response.text
