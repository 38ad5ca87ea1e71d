"""Settings from the environment, and token minting and verification, without a database."""

from __future__ import annotations

import time

import jwt
import pytest

from services.kit.auth import Role, mint_token, verify_token
from services.kit.problems import Unauthorized
from services.kit.settings import AuthSettings, Settings, SettingsError

pytestmark = pytest.mark.unit


def test_settings_read_the_environment_and_keep_defaults(tmp_path):
    settings = Settings.from_env(
        {"ROADMAP_DATA_DIR": str(tmp_path), "PORT": "9001", "ROADMAP_DATABASE_URL": "postgresql://db/x"}
    )
    assert settings.port == 9001 and settings.database_url == "postgresql://db/x"
    assert settings.host == "127.0.0.1" and settings.auth.algorithms == ("HS256",)


def test_a_bad_number_names_the_variable(tmp_path):
    with pytest.raises(SettingsError, match="PORT"):
        Settings.from_env({"ROADMAP_DATA_DIR": str(tmp_path), "PORT": "eighty"})


def test_the_local_signing_key_is_made_once_and_kept_private(tmp_path):
    first = Settings.from_env({"ROADMAP_DATA_DIR": str(tmp_path)}).auth.signing_key
    second = Settings.from_env({"ROADMAP_DATA_DIR": str(tmp_path)}).auth.signing_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "jwt-signing-key").stat().st_mode & 0o077 == 0


def test_secrets_stay_out_of_repr(tmp_path):
    settings = Settings.from_env(
        {"ROADMAP_DATA_DIR": str(tmp_path), "ROADMAP_DATABASE_URL": "postgresql://u:hunter2@db/x"}
    )
    assert "hunter2" not in repr(settings)
    assert settings.auth.signing_key not in repr(settings.auth)


def test_with_a_jwks_url_no_local_key_is_made(tmp_path):
    settings = Settings.from_env({"ROADMAP_DATA_DIR": str(tmp_path), "ROADMAP_JWKS_URL": "https://idp/keys"})
    assert settings.auth.signing_key == "" and settings.auth.algorithms == ("RS256",)
    assert not (tmp_path / "jwt-signing-key").exists()


AUTH = AuthSettings(signing_key="k" * 40)


def test_a_minted_token_verifies_with_its_roles():
    token = mint_token(AUTH, subject="ann@example.com", roles=["leader", "viewer"], groups=["cx", "pmo"])
    caller = verify_token(AUTH, token)
    assert caller.subject == "ann@example.com"
    assert caller.roles == {Role.LEADER, Role.VIEWER} and caller.groups == {"cx", "pmo"}


def test_unknown_roles_in_a_token_grant_nothing():
    claims = {"sub": "x", "roles": ["superuser"], "iss": AUTH.issuer, "aud": AUTH.audience, "exp": time.time() + 60}
    caller = verify_token(AUTH, jwt.encode(claims, AUTH.signing_key, algorithm="HS256"))
    assert caller.roles == frozenset()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: jwt.encode({"sub": "x", "roles": ["admin"]}, "", algorithm="none"),
        lambda token: mint_token(AuthSettings(signing_key="z" * 40), subject="x", roles=["admin"]),
        lambda token: mint_token(AUTH, subject="x", roles=["admin"], ttl_seconds=-5),
    ],
    ids=["bad-signature", "alg-none", "other-key", "expired"],
)
def test_tampered_or_expired_tokens_are_refused(tamper):
    with pytest.raises(Unauthorized):
        verify_token(AUTH, tamper(mint_token(AUTH, subject="x", roles=["viewer"])))


def test_job_timings_come_from_the_environment_and_must_be_positive(tmp_path):
    env = {"ROADMAP_DATA_DIR": str(tmp_path), "ROADMAP_JOB_RETRY_AFTER_SECONDS": "2.5"}
    settings = Settings.from_env(env)
    assert settings.job_retry_after_seconds == 2.5 and settings.job_stop_grace_seconds == 10.0
    for bad in ("0", "-1", "nan", "soon"):
        with pytest.raises(SettingsError, match="ROADMAP_JOB_STOP_GRACE_SECONDS"):
            Settings.from_env({"ROADMAP_DATA_DIR": str(tmp_path), "ROADMAP_JOB_STOP_GRACE_SECONDS": bad})
