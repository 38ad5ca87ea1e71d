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


def signed(**claims: object) -> str:
    now = int(time.time())
    base = {"sub": "x", "iss": AUTH.issuer, "aud": AUTH.audience, "iat": now, "exp": now + 60}
    return jwt.encode({**base, **claims}, AUTH.signing_key, algorithm="HS256")


@pytest.mark.parametrize("value", [5, {"admin": 1}, ["admin", 1], None, True, [["admin"]]])
@pytest.mark.parametrize("claim", ["roles", "groups"])
def test_a_roles_or_groups_claim_of_the_wrong_type_is_refused_not_guessed_at(claim, value):
    with pytest.raises(Unauthorized, match=claim):
        verify_token(AUTH, signed(**{claim: value}))


def test_roles_and_groups_may_be_a_space_separated_string():
    caller = verify_token(AUTH, signed(roles="admin viewer", groups="cx pmo"))
    assert caller.roles == {Role.ADMIN, Role.VIEWER} and caller.groups == {"cx", "pmo"}


@pytest.mark.parametrize(
    "times",
    [
        {"iat": int(time.time()), "exp": int(time.time()) + 24 * 3600 + 60},  # issued for longer than a day
        {"iat": None, "exp": int(time.time()) + 48 * 3600},  # no iat: the lifetime still ahead counts
    ],
)
def test_a_token_meant_to_live_longer_than_the_maximum_is_refused(times):
    token = (
        signed(**times)
        if times["iat"] is not None
        else jwt.encode(
            {"sub": "x", "iss": AUTH.issuer, "aud": AUTH.audience, "exp": times["exp"]},
            AUTH.signing_key,
            algorithm="HS256",
        )
    )
    with pytest.raises(Unauthorized, match="at most 86400 s"):
        verify_token(AUTH, token)


def test_the_maximum_lifetime_is_the_operators_and_minting_respects_it(tmp_path):
    settings = Settings.from_env({"ROADMAP_DATA_DIR": str(tmp_path), "ROADMAP_JWT_MAX_LIFETIME_SECONDS": "600"})
    assert settings.auth.max_lifetime_seconds == 600
    verify_token(settings.auth, mint_token(settings.auth, subject="x", roles=["viewer"], ttl_seconds=600))
    with pytest.raises(ValueError, match="at most 600 s"):
        mint_token(settings.auth, subject="x", roles=["viewer"], ttl_seconds=601)
    with pytest.raises(SettingsError, match="ROADMAP_TOKEN_TTL_SECONDS"):
        Settings.from_env(
            {"ROADMAP_DATA_DIR": str(tmp_path), "ROADMAP_JWT_MAX_LIFETIME_SECONDS": "600"}
            | {"ROADMAP_TOKEN_TTL_SECONDS": "3600"}
        )


@pytest.mark.parametrize("secret", ["short", "x" * 31, "é" * 15])
def test_a_jwt_secret_shorter_than_32_bytes_is_refused_at_start(tmp_path, secret):
    with pytest.raises(SettingsError, match="ROADMAP_JWT_SECRET .* at least 32"):
        Settings.from_env({"ROADMAP_DATA_DIR": str(tmp_path), "ROADMAP_JWT_SECRET": secret})
    assert (
        Settings.from_env({"ROADMAP_DATA_DIR": str(tmp_path), "ROADMAP_JWT_SECRET": "x" * 32}).auth.signing_key
        == "x" * 32
    )
