"""The operator's settings for secrets, outbound calls and webhooks, read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.kit.settings import Settings, SettingsError

pytestmark = pytest.mark.unit

BASE = {"ROADMAP_JWT_SECRET": "k" * 40}


def test_the_defaults_are_the_container_secrets_folder_no_exceptions_and_five_minutes():
    settings = Settings.from_env(BASE)
    assert settings.secrets_dir == Path("/run/secrets")
    assert settings.outbound_allowed_hosts == ()
    assert settings.webhook_max_age_seconds == 300


def test_the_operators_values_are_read_and_normalised():
    settings = Settings.from_env({
        **BASE, "ROADMAP_SECRETS_DIR": "/run/secrets/jira/", "ROADMAP_WEBHOOK_MAX_AGE_SECONDS": "120",
        "ROADMAP_OUTBOUND_ALLOWED_HOSTS": " Jira.Internal , 127.0.0.1:8081,[::1]:9000,, ",
    })  # fmt: skip
    assert settings.secrets_dir == Path("/run/secrets/jira")
    assert settings.outbound_allowed_hosts == ("jira.internal", "127.0.0.1:8081", "[::1]:9000")
    assert settings.webhook_max_age_seconds == 120


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ROADMAP_OUTBOUND_ALLOWED_HOSTS", "http://jira.internal"),
        ("ROADMAP_OUTBOUND_ALLOWED_HOSTS", "jira.internal/path"),
        ("ROADMAP_OUTBOUND_ALLOWED_HOSTS", "*.internal"),
        ("ROADMAP_SECRETS_DIR", "relative/secrets"),
        ("ROADMAP_WEBHOOK_MAX_AGE_SECONDS", "0"),
        ("ROADMAP_WEBHOOK_MAX_AGE_SECONDS", "five minutes"),
    ],
)
def test_a_value_the_server_cannot_use_stops_it_at_start_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**BASE, name: value})
