"""The `roadmap` command line as a user runs it: real processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from services.kit.auth import Role, verify_token
from services.kit.settings import Settings

pytestmark = pytest.mark.integration

ROADMAP = str(Path(sys.executable).with_name("roadmap"))


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ROADMAP, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def test_token_prints_a_token_that_the_services_accept(tmp_path):
    env = {"ROADMAP_DATA_DIR": str(tmp_path)}
    result = run("token", "--role", "leader", "--subject", "lea@example.com", env=env)
    assert result.returncode == 0, result.stderr
    caller = verify_token(Settings.from_env(env).auth, result.stdout.strip())
    assert caller.subject == "lea@example.com" and caller.roles == {Role.LEADER}


def test_token_refuses_an_unknown_role(tmp_path):
    result = run("token", "--role", "superuser", "--subject", "x", env={"ROADMAP_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2 and "superuser" in result.stderr


def test_a_short_jwt_secret_is_refused_at_start_with_one_clear_line(tmp_path):
    for command in (("token", "--role", "admin", "--subject", "x"), ("serve", "--port", "1")):
        result = run(*command, env={"ROADMAP_DATA_DIR": str(tmp_path), "ROADMAP_JWT_SECRET": "too-short"})
        assert result.returncode == 1, result
        assert "ROADMAP_JWT_SECRET is 9 bytes; it must be at least 32" in result.stderr
        assert "Traceback" not in result.stderr


def test_token_refuses_a_lifetime_beyond_the_maximum(tmp_path):
    result = run(
        "token", "--role", "admin", "--subject", "x", "--ttl", "90000", env={"ROADMAP_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode == 2 and "at most 86400 s" in result.stderr


def test_migrate_brings_an_empty_database_to_the_latest_revision(make_database, tmp_path):
    url = make_database("cli")
    result = run("migrate", env={"ROADMAP_DATABASE_URL": url, "ROADMAP_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr

    async def revision() -> str:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval("SELECT version_num FROM alembic_version")
        finally:
            await conn.close()

    heads = sorted(p.name.split("_")[0] for p in (Path(__file__).parents[2] / "migrations" / "versions").glob("0*.py"))
    assert asyncio.run(revision()) == heads[-1]
