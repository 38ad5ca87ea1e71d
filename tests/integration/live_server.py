"""`roadmap serve` as a real process on a free loopback port, for tests that need real HTTP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROADMAP = str(Path(sys.executable).with_name("roadmap"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(base: str, within: float = 60) -> None:
    """Wait until `base` answers its readiness check; fail the test if it never does."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} never became ready")


@contextlib.contextmanager
def serving(log_path: Path, *args: str, env: dict[str, str]) -> Iterator[str]:
    """Run `roadmap serve ARGS` on a free port with `env` added; yield its base URL, stop it after."""
    port = free_port()
    with log_path.open("w") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [ROADMAP, "serve", "--port", str(port), *args],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
