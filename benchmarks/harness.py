"""What the benchmarks share: their PostgreSQL, servers on free ports, and `wrk` for load.

Not a benchmark itself (`python -m benchmarks` does not list it).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import asyncpg
import httpx

from services.kit.embedded_pg import embedded_database_url

ROOT = Path(__file__).resolve().parents[1]
ROADMAP = Path(sys.executable).with_name("roadmap")


def database_server_url() -> str:
    """ROADMAP_DATABASE_URL's server if set, otherwise the embedded PostgreSQL in `.data/bench-postgres`.

    Never the machine's own PostgreSQL by accident: the benchmarks drop and create databases.
    """
    return os.environ.get("ROADMAP_DATABASE_URL") or embedded_database_url(
        ROOT / ".data" / "bench-postgres", database="postgres"
    )


async def fresh_database(server_url: str, name: str) -> str:
    """Drop and create database `name` on `server_url`'s server; return its URL."""
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return re.sub(r"^(postgres(?:ql)?://[^/]*/)([^?]*)", lambda m: m.group(1) + name, server_url)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(base: str, *, seconds: float = 60, process: subprocess.Popen | None = None) -> None:
    """Poll `base`/health/ready until it answers 200; fail early if `process` exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server for {base} exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base} was not ready within {seconds:g} s")


def require_wrk() -> None:
    """Exit with a hint when the load generator is missing."""
    if shutil.which("wrk") is None:
        print(
            "This benchmark needs wrk, an HTTP load generator: it is Debian's and Ubuntu's package `wrk`\n"
            "(sudo apt-get install wrk) and Homebrew's formula `wrk` (brew install wrk).",
            file=sys.stderr,
        )
        sys.exit(2)


class Load(NamedTuple):
    """What wrk measured for one request: requests per second and latency percentiles (ms)."""

    rate: float
    p50: float
    p99: float
    socket_errors: int


WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""
# wrk's hook for pacing: each connection waits this long (ms) before its next request, so
# `clients` connections offer about `rate` requests a second (a little less: the answer's own
# time adds to the wait). Debian has no wrk2; unlike wrk2 this does not correct for
# coordinated omission, so a server that stalls is under-sampled while it stalls.
WRK_PACING = """
function delay()
   return {delay_ms}
end
"""


def wrk(
    url: str,
    *,
    method: str = "GET",
    body: str = "",
    token: str,
    clients: int,
    seconds: int,
    workdir: Path,
    rate: float | None = None,
) -> Load:
    """Load `url` with wrk, a load generator in C: an httpx client in Python tops out far below
    what the server can do and would measure itself. Any non-2xx answer is an error.

    With `rate`, the connections are paced to offer about that many requests a second in all
    (see WRK_PACING); without it each sends its next request as soon as the answer is in."""
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / f"wrk-{method.lower()}{'' if rate is None else '-paced'}.lua"
    text = WRK_SCRIPT.format(method=method, body=body, token=token)
    if rate is not None:
        text += WRK_PACING.format(delay_ms=max(1, round(1000 * clients / rate)))
    script.write_text(text)
    done = subprocess.run(
        ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True,
    )  # fmt: skip
    out = done.stdout
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}) on {method} {url}:\n{out}{done.stderr}")
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"{method} {url} answered errors under load:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {m.group(1): _ms(m.group(2)) for m in re.finditer(r"^\s+(50|99)%\s+(\S+)", out, re.MULTILINE)}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Load(rate, latency["50"], latency["99"], sum(int(n) for n in errors.groups()) if errors else 0)


def wrk_at_rate(url: str, *, token: str, rate: float, clients: int, seconds: int, workdir: Path) -> Load:
    """Load `url` at about `rate` requests a second: a first paced run measures how much the
    answers' own time slows each connection down, and the measured run waits that much less
    between requests (wrk's `delay()` counts from the answer, not from the last send)."""
    first = wrk(url, token=token, clients=clients, seconds=seconds, workdir=workdir, rate=rate)
    period_ms = 1000 * clients / rate
    waited_ms = max(1, round(period_ms))
    answer_ms = max(0.0, 1000 * clients / max(first.rate, 1e-9) - waited_ms)
    corrected = 1000 * clients / max(1.0, period_ms - answer_ms)
    return wrk(url, token=token, clients=clients, seconds=seconds, workdir=workdir, rate=corrected)


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    raise ValueError(text)
