"""What `roadmap serve` prints on start, and what it leaves behind when stopped: real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import httpx
import pytest
from live_server import ROADMAP, free_port, serving, wait_ready

pytestmark = pytest.mark.integration

JWT_PREFIX = "eyJ"  # every JWT starts so: a printed token shows up as this


def environment(**more: str) -> dict[str, str]:
    """The test's environment without settings that would change what serve does, plus `more`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROADMAP_") and k != "PORT"}
    return {**env, **more}


def test_without_seed_demo_no_token_is_printed(make_database, tmp_path):
    env = environment(ROADMAP_DATABASE_URL=make_database("serve_plain"), ROADMAP_DATA_DIR=str(tmp_path))
    with serving(tmp_path / "serve.log", "--service", "all", env=env):
        printed = (tmp_path / "serve.log").read_text()
    assert "Roadmap backend on" in printed and JWT_PREFIX not in printed
    assert "roadmap token --role" in printed


def test_seed_demo_prints_no_token_signed_with_the_operators_key(make_database, tmp_path):
    env = environment(
        ROADMAP_DATABASE_URL=make_database("serve_operator_key"),
        ROADMAP_DATA_DIR=str(tmp_path),
        ROADMAP_JWT_SECRET="operator-" + "o" * 40,
    )
    with serving(tmp_path / "serve.log", "--seed-demo", env=env):
        printed = (tmp_path / "serve.log").read_text()
    assert "Demo portfolio:" in printed and JWT_PREFIX not in printed


def test_with_an_identity_provider_serve_all_starts_and_refuses_made_up_tokens(make_database, tmp_path):
    # The key endpoint does not exist: starting must not need it, a request with a token does.
    env = environment(
        ROADMAP_DATABASE_URL=make_database("serve_idp"),
        ROADMAP_DATA_DIR=str(tmp_path),
        ROADMAP_JWKS_URL=f"http://127.0.0.1:{free_port()}/jwks.json",
        ROADMAP_JWKS_TIMEOUT_SECONDS="0.5",
    )
    with serving(tmp_path / "serve.log", "--service", "all", "--seed-demo", env=env) as base:
        live = httpx.get(f"{base}/health/live", timeout=10)
        no_token = httpx.get(f"{base}/scoring/portfolios", timeout=10)
        printed = (tmp_path / "serve.log").read_text()
    assert live.status_code == 200 and no_token.status_code == 401
    assert "identity provider" in printed and JWT_PREFIX not in printed
    assert not (tmp_path / "jwt-signing-key").exists()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_stops_the_embedded_postgresql_too(tmp_path, stop_signal):
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [ROADMAP, "serve", "--port", str(port), "--no-worker"],
            env=environment(ROADMAP_DATA_DIR=str(tmp_path)),  # no database URL: the embedded one
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    postgres_pid = None
    try:
        wait_ready(f"http://127.0.0.1:{port}", within=120)
        postgres_pid = int((tmp_path / "postgres" / "postmaster.pid").read_text().split()[0])
        assert alive(postgres_pid)
        process.send_signal(stop_signal)
        process.wait(timeout=60)
        deadline = time.monotonic() + 30  # a guard against waiting for ever, not a speed check
        while alive(postgres_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(postgres_pid), "the embedded PostgreSQL was left running:\n" + log_path.read_text()[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if postgres_pid is not None and alive(postgres_pid):
            os.kill(postgres_pid, signal.SIGQUIT)  # the server this test started; never leave it behind
