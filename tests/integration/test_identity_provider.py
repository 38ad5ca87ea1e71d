"""Tokens from an organisation's identity provider: RS256 verified against its published JWKS."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from services.kit.auth import Role, verify_token
from services.kit.problems import Unauthorized
from services.kit.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def identity_provider():
    """A JWKS endpoint on loopback publishing one RSA key, and a way to sign with it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    document = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def sign(claims: dict[str, object]) -> str:
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})

    yield f"http://127.0.0.1:{server.server_port}/jwks.json", sign
    server.shutdown()
    server.server_close()


def claims(**overrides: object) -> dict[str, object]:
    base = {"sub": "ann@corp.example", "groups": ["leader"], "iss": "https://idp.corp.example/",
            "aud": "roadmap-api", "exp": int(time.time()) + 300}  # fmt: skip
    return {**base, **overrides}


def idp_settings(url: str, tmp_path) -> Settings:
    return Settings.from_env(
        {
            "ROADMAP_DATA_DIR": str(tmp_path),
            "ROADMAP_JWKS_URL": url,
            "ROADMAP_JWT_ISSUER": "https://idp.corp.example/",
            "ROADMAP_JWT_AUDIENCE": "roadmap-api",
            "ROADMAP_JWT_ROLES_CLAIM": "groups",
        }
    )


def test_a_token_from_the_identity_provider_is_accepted(identity_provider, tmp_path):
    url, sign = identity_provider
    caller = verify_token(idp_settings(url, tmp_path).auth, sign(claims()))
    assert caller.subject == "ann@corp.example" and caller.roles == {Role.LEADER}


@pytest.mark.parametrize(
    "bad", [{"iss": "https://evil.example/"}, {"aud": "another-api"}, {"exp": int(time.time()) - 5}]
)
def test_wrong_issuer_audience_or_expiry_is_refused(identity_provider, tmp_path, bad):
    url, sign = identity_provider
    with pytest.raises(Unauthorized):
        verify_token(idp_settings(url, tmp_path).auth, sign(claims(**bad)))


def test_an_hs256_token_is_refused_when_the_provider_signs_rs256(identity_provider, tmp_path):
    url, _ = identity_provider
    forged = jwt.encode(claims(), "guessed-secret-" + "x" * 32, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(Unauthorized):
        verify_token(idp_settings(url, tmp_path).auth, forged)
