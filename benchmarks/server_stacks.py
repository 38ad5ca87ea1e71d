"""Two ASGI servers on the same app, in one run: uvicorn (httptools, uvloop) against Granian.

Both serve every service in one process each (the app `roadmap serve --workers N` builds in its
worker processes, `services.cli:worker_app`), on the same database, side by side on two ports;
only one is loaded at a time. wrk at 16 connections loads health, a ranking page of 50 and a
filtered ideas page of 50 on each, in interleaved rounds (the machine is shared: interleaving
spreads its load over both), and the median round is reported.

Granian is not a dependency of the project: install it into the environment to run this
(`pip install granian`); the script says so when it is missing.

    .venv/bin/python -m benchmarks.server_stacks [--ideas 5000] [--seconds 3] [--rounds 3]

Uses ROADMAP_DATABASE_URL's server if set (database `bench_stacks`), otherwise the embedded
PostgreSQL in `.data/bench-postgres`. Needs `wrk`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import (
    ROOT,
    Load,
    database_server_url,
    free_port,
    fresh_database,
    require_wrk,
    wait_until_ready,
    wrk,
)
from benchmarks.scoring_ranking import generate_ideas, load_and_score
from services.kit import migrate
from services.kit.auth import mint_token
from services.kit.settings import AuthSettings

WORKDIR = ROOT / ".data" / "bench-stacks"
SECRET = "bench-stacks-" + "k" * 40
APP = "services.cli:worker_app"


def commands(port: int) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    return {
        "uvicorn (httptools, uvloop)": [
            str(bin_dir / "uvicorn"), APP, "--factory", "--port", str(port), "--http", "httptools",
            "--loop", "uvloop", "--no-access-log", "--log-level", "warning",
        ],
        "Granian (ASGI, uvloop)": [
            str(bin_dir / "granian"), APP, "--factory", "--interface", "asgi", "--port", str(port + 1),
            "--loop", "uvloop", "--no-access-log", "--log-level", "warning",
        ],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ideas", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    require_wrk()
    if (
        importlib.util.find_spec("granian") is None
        or shutil.which("granian", path=str(Path(sys.executable).parent)) is None
    ):
        sys.exit("This comparison needs Granian in this environment: pip install granian")
    WORKDIR.mkdir(parents=True, exist_ok=True)
    database_url = asyncio.run(fresh_database(database_server_url(), "bench_stacks"))
    migrate.upgrade(database_url)
    portfolio_id, model_id, *_ = asyncio.run(load_and_score(database_url, generate_ideas(args.ideas)))
    env = {
        **os.environ,
        "ROADMAP_DATABASE_URL": database_url,
        "ROADMAP_DATA_DIR": str(WORKDIR),
        "ROADMAP_JWT_SECRET": SECRET,
        "ROADMAP_LOG_LEVEL": "WARNING",
        "ROADMAP_SERVE_SERVICE": "all",
        "ROADMAP_SERVE_JOBS": "0",
    }
    port = free_port()
    servers = {}
    try:
        for index, (name, command) in enumerate(commands(port).items()):
            with (WORKDIR / f"server-{index}.log").open("w") as log:
                servers[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            wait_until_ready(f"http://127.0.0.1:{port + index}", process=servers[name])
        token = mint_token(AuthSettings(signing_key=SECRET), subject="bench", roles=("programme_manager",))
        paths = {
            "GET /health/live (ceiling)": "/health/live",
            "GET a ranking, first page of 50": f"/scoring/portfolios/{portfolio_id}/models/{model_id}/ranking?pageSize=50",
            "GET ideas, filtered by journey stage, page of 50":
                f"/scoring/portfolios/{portfolio_id}/ideas?journeyStage=onboarding&pageSize=50",
        }  # fmt: skip
        runs: dict[tuple[str, str], list[Load]] = {}
        for index in range(len(servers)):
            for path in paths.values():  # warm-up
                wrk(f"http://127.0.0.1:{port + index}{path}", token=token, clients=16, seconds=1, workdir=WORKDIR)
        for _ in range(args.rounds):
            for index, name in enumerate(servers):
                for request, path in paths.items():
                    url = f"http://127.0.0.1:{port + index}{path}"
                    load = wrk(url, token=token, clients=16, seconds=args.seconds, workdir=WORKDIR)
                    runs.setdefault((name, request), []).append(load)
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)
    print(
        f"{args.ideas:,} ideas under RICE; each server one process; wrk -t2 -c16 on loopback, median of "
        f"{args.rounds} interleaved rounds of {args.seconds} s; {os.cpu_count()} cores, Python {platform.python_version()}\n"
    )
    print("| server | request | requests/s | share of its ceiling | p50 | p99 |")
    print("|---|---|---:|---:|---:|---:|")
    for name in servers:
        ceiling = None
        for request in paths:
            loads = runs[(name, request)]
            load = sorted(loads, key=lambda run: run.rate)[len(loads) // 2]
            ceiling = ceiling or load.rate
            print(
                f"| {name} | {request} | {load.rate:,.0f} | {load.rate / ceiling:.0%} "
                f"| {load.p50:.1f} ms | {load.p99:.1f} ms |"
            )


if __name__ == "__main__":
    main()
