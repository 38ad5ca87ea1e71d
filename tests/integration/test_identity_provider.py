"""Tokens from an organisation's identity provider: RS256 verified against its published JWKS."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from services.kit.auth import Role, authenticate
from services.kit.db import PoolSource
from services.kit.problems import Unauthorized
from services.kit.settings import Settings
from services.single_process import create_single_process_app

pytestmark = pytest.mark.integration


class KeyEndpoint:
    """A JWKS endpoint on loopback publishing one RSA key; it counts its requests and can be held."""

    def __init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        self.document = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()
        self.requests = 0
        self.reached = threading.Event()  # set when a request arrives
        self.release = threading.Event()  # a held request answers once this is set
        self.held = False
        self.released_by_test: list[bool] = []
        endpoint = self

        class Keys(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.requests += 1
                endpoint.reached.set()
                if endpoint.held:
                    endpoint.released_by_test.append(endpoint.release.wait(timeout=30))
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(endpoint.document)
                except OSError:  # the server gave up waiting and closed the connection
                    pass

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sign(self, claims: dict[str, object], kid: str = "k1") -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": kid})

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    keys = KeyEndpoint()
    yield keys
    keys.stop()


@pytest.fixture
def identity_provider(endpoint):
    return endpoint.url, endpoint.sign


def claims(**overrides: object) -> dict[str, object]:
    base = {"sub": "ann@corp.example", "groups": ["leader"], "iss": "https://idp.corp.example/",
            "aud": "roadmap-api", "exp": int(time.time()) + 300}  # fmt: skip
    return {**base, **overrides}


def idp_settings(url: str, tmp_path, **more: str) -> Settings:
    return Settings.from_env(
        {
            "ROADMAP_DATA_DIR": str(tmp_path),
            "ROADMAP_JWKS_URL": url,
            "ROADMAP_JWT_ISSUER": "https://idp.corp.example/",
            "ROADMAP_JWT_AUDIENCE": "roadmap-api",
            "ROADMAP_JWT_ROLES_CLAIM": "groups",
            **more,
        }
    )


async def test_a_token_from_the_identity_provider_is_accepted(identity_provider, tmp_path):
    url, sign = identity_provider
    caller = await authenticate(idp_settings(url, tmp_path).auth, sign(claims()))
    assert caller.subject == "ann@corp.example" and caller.roles == {Role.LEADER}


@pytest.mark.parametrize(
    "bad", [{"iss": "https://evil.example/"}, {"aud": "another-api"}, {"exp": int(time.time()) - 5}]
)
async def test_wrong_issuer_audience_or_expiry_is_refused(identity_provider, tmp_path, bad):
    url, sign = identity_provider
    with pytest.raises(Unauthorized):
        await authenticate(idp_settings(url, tmp_path).auth, sign(claims(**bad)))


async def test_an_hs256_token_is_refused_when_the_provider_signs_rs256(identity_provider, tmp_path):
    url, _ = identity_provider
    forged = jwt.encode(claims(), "guessed-secret-" + "x" * 32, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(Unauthorized):
        await authenticate(idp_settings(url, tmp_path).auth, forged)


@contextlib.asynccontextmanager
async def app_trusting(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The single-process app with its own pool, trusting the identity provider in `settings`."""
    source = await PoolSource.open(settings)
    app = create_single_process_app(settings, source=source, run_jobs=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=60) as http:
            yield http
    finally:
        await source.close()


def with_idp(settings: Settings, endpoint: KeyEndpoint, tmp_path, **more: str) -> Settings:
    return msgspec.structs.replace(idp_settings(endpoint.url, tmp_path, **more), database_url=settings.database_url)


async def test_a_slow_key_endpoint_never_freezes_the_process(settings, endpoint, tmp_path):
    endpoint.held = True
    viewer = {"Authorization": "Bearer " + endpoint.sign(claims(groups=["viewer"]))}
    async with app_trusting(with_idp(settings, endpoint, tmp_path, ROADMAP_JWKS_TIMEOUT_SECONDS="60")) as http:
        waiting = asyncio.create_task(http.get("/scoring/portfolios", headers=viewer))
        assert await asyncio.to_thread(endpoint.reached.wait, 30)
        # The key fetch is held open: the process must still answer everything else.
        live = await http.get("/health/live")
        endpoint.release.set()
        answered = await waiting
    assert live.status_code == 200
    assert endpoint.released_by_test == [True]  # the health check did not wait for the keys
    assert answered.status_code == 200, answered.text


async def test_a_key_endpoint_that_does_not_answer_in_time_is_a_503_not_a_hang(settings, endpoint, tmp_path):
    endpoint.held = True
    viewer = {"Authorization": "Bearer " + endpoint.sign(claims(groups=["viewer"]))}
    async with app_trusting(with_idp(settings, endpoint, tmp_path, ROADMAP_JWKS_TIMEOUT_SECONDS="0.5")) as http:
        response = await http.get("/scoring/portfolios", headers=viewer)
    endpoint.release.set()
    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
    assert "identity provider" in response.json()["detail"]


async def test_made_up_key_ids_do_not_make_the_server_hammer_the_identity_provider(settings, endpoint, tmp_path):
    async with app_trusting(with_idp(settings, endpoint, tmp_path)) as http:
        answers = [
            (
                await http.get(
                    "/scoring/portfolios",
                    headers={"Authorization": "Bearer " + endpoint.sign(claims(), kid=f"made-up-{n}")},
                )
            ).status_code
            for n in range(20)
        ]
        good = await http.get(
            "/scoring/portfolios", headers={"Authorization": "Bearer " + endpoint.sign(claims(groups=["viewer"]))}
        )
    assert set(answers) == {401} and good.status_code == 200
    assert endpoint.requests == 1  # one fetch; unknown key ids wait for the next refresh window
