"""Reading under load, with the services run as in production: a ranking, an ideas list, a run.

The scoring and roadmap services each run as their own `roadmap serve --service NAME
--workers N` (uvicorn worker processes sharing a port), with a `roadmap worker` for jobs, on
their own PostgreSQL. The backlog is a portfolio of a few thousand generated ideas scored
under a RICE model, and a finished optimisation run of it. wrk, on loopback, then loads
each request in turn.

Baseline, measured in the same run: GET /health/live of the same service processes with the
same wrk settings, the ceiling of what the server, the middleware and the machine allow.
Each request is reported against its own service's ceiling. Every request is warmed up, then
measured in several interleaved rounds; the round with the median rate is reported. Last,
each request with one connection: its latency without queueing.

    .venv/bin/python -m benchmarks.service_load [--workers 2] [--ideas 5000] [--clients 32] [--seconds 5] [--rounds 3]

Quick mode (`--quick`): one `roadmap serve` process (every service, its job worker idle once
the run has finished), wrk at 16 connections, the same four requests against the same
process's ceiling; then each request's p99 at half its own maximum rate: wrk at 8 connections,
each paced by wrk's `delay()` hook to offer half the 16-connection rate in all (Debian has no
wrk2; unlike wrk2's, this pacing does not correct for coordinated omission).

The same page loaded again and again is, after its first answer, served from the server's read
cache (services/kit/read_cache.py: one statement, the access check with the portfolio's
generation). `--read-cache-mb 0` turns the cache off, to measure what reading the page afresh
costs.

Uses ROADMAP_DATABASE_URL's server if set (database `bench_load`), otherwise the embedded
PostgreSQL in `.data/bench-postgres`. Needs `wrk` (Debian's package `wrk`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

import httpx

from benchmarks.harness import (
    ROADMAP,
    ROOT,
    Load,
    database_server_url,
    free_port,
    fresh_database,
    require_wrk,
    wait_until_ready,
    wrk,
    wrk_at_rate,
)
from benchmarks.scoring_ranking import generate_ideas, load_and_score
from services.kit import migrate
from services.kit.auth import mint_token
from services.kit.settings import AuthSettings
from services.scoring.domain import PHASES

WORKDIR = ROOT / ".data" / "bench-load"
SECRET = "bench-load-" + "k" * 40


class Target(NamedTuple):
    service: str
    name: str
    url: str


class Row(NamedTuple):
    target: Target
    load: Load
    alone: Load
    bytes: int


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A `roadmap` command in its own process group, its output in `log`."""
    with log.open("w") as output:
        return subprocess.Popen(
            [str(ROADMAP), *command], env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen) -> None:
    process.terminate()  # uvicorn's supervisor stops its workers on SIGTERM
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own group: only what this benchmark started
        process.wait(timeout=10)


def finished_run(roadmap: str, token: str, portfolio_id: str, model_id: str, ideas: int) -> tuple[str, str]:
    """A scenario over the whole backlog (budgets for about a third of it), run until it finishes."""
    per_phase = ideas * 200_000 * 0.3 / len(PHASES)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=roadmap, headers=headers, timeout=120) as client:
        scenario = client.post(
            "/roadmap/scenarios",
            json={
                "name": f"{ideas} ideas",
                "portfolioId": portfolio_id,
                "modelId": model_id,
                "phases": [{"key": phase, "budget": per_phase} for phase in PHASES],
                "solver": {"timeLimitSeconds": 20, "relativeGap": 0.01},
            },
        )
        scenario.raise_for_status()
        run = client.post(f"/roadmap/scenarios/{scenario.json()['id']}/runs", json={})
        run.raise_for_status()
        deadline = time.monotonic() + 180
        body = run.json()
        while body["status"] in ("queued", "running"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"run {body['id']} did not finish: {body}")
            time.sleep(0.5)
            body = client.get(f"/roadmap/runs/{body['id']}").json()
        return body["id"], body["status"]


def check(targets: list[Target], token: str) -> dict[str, int]:
    """Each request answers 200 once before it is loaded; its body size, for the table."""
    sizes = {}
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for target in targets:
            response = client.get(target.url)
            response.raise_for_status()
            sizes[target.url] = len(response.content)
    return sizes


def measure(targets: list[Target], token: str, args: argparse.Namespace) -> tuple[list[Load], list[Load]]:
    """Warm every request up, then measure them in interleaved rounds; keep each one's median round.

    Then each once more with a single connection: its latency with no queueing, what one
    request costs the server and the database.
    """

    def load(target: Target, seconds: int, clients: int = args.clients) -> Load:
        return wrk(target.url, token=token, clients=clients, seconds=seconds, workdir=WORKDIR)

    for target in targets:
        load(target, args.warmup)
    rounds: list[list[Load]] = [[] for _ in targets]
    for _ in range(args.rounds):
        for index, target in enumerate(targets):
            rounds[index].append(load(target, args.seconds))
    loaded = [sorted(runs, key=lambda run: run.rate)[len(runs) // 2] for runs in rounds]
    return loaded, [load(target, args.seconds, clients=1) for target in targets]


def report(rows: list[Row], args: argparse.Namespace, setup: str) -> None:
    print(setup + "\n")
    print(
        "| service | request | response | requests/s | share of ceiling | p50 | p50 / ceiling's | p99 | p99 / ceiling's |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    ceilings = {row.target.service: row.load for row in rows if row.target.name.endswith("(ceiling)")}
    for row in rows:
        top = ceilings[row.target.service]
        load = row.load
        print(
            f"| {row.target.service} | {row.target.name} | {row.bytes:,} B | {load.rate:,.0f} | {load.rate / top.rate:.0%} "
            f"| {load.p50:.1f} ms | {load.p50 / top.p50:.1f}x | {load.p99:.1f} ms | {load.p99 / top.p99:.1f}x |"
        )
    print("\nOne connection at a time (no queueing):\n")
    print("| service | request | requests/s | p50 | p50 / ceiling's | p99 |")
    print("|---|---|---:|---:|---:|---:|")
    alone = {row.target.service: row.alone for row in rows if row.target.name.endswith("(ceiling)")}
    for row in rows:
        top = alone[row.target.service]
        print(
            f"| {row.target.service} | {row.target.name} | {row.alone.rate:,.0f} | {row.alone.p50:.2f} ms "
            f"| {row.alone.p50 / top.p50:.1f}x | {row.alone.p99:.2f} ms |"
        )
    errors = sum(row.load.socket_errors for row in rows)
    if errors:
        print(f"\nwrk counted {errors} socket errors (timeouts or resets) over the reported rounds.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers per service")
    parser.add_argument("--ideas", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=32, help="wrk connections")
    parser.add_argument("--seconds", type=int, default=5, help="length of one measured round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring, per request")
    parser.add_argument("--quick", action="store_true", help="one process, 16 connections, p99 at about half rate")
    parser.add_argument(
        "--read-cache-mb", type=int, default=None, help="the server's ROADMAP_READ_CACHE_MB (0: off; default: its own)"
    )
    args = parser.parse_args()
    require_wrk()
    if args.quick:
        quick(args)
        return

    WORKDIR.mkdir(parents=True, exist_ok=True)
    database_url = asyncio.run(fresh_database(database_server_url(), "bench_load"))
    migrate.upgrade(database_url)
    portfolio_id, model_id, *_ = asyncio.run(load_and_score(database_url, generate_ideas(args.ideas)))

    scoring_port, roadmap_port = free_port(), free_port()
    scoring, roadmap = f"http://127.0.0.1:{scoring_port}", f"http://127.0.0.1:{roadmap_port}"
    env = {
        **os.environ,
        "ROADMAP_DATABASE_URL": database_url,
        "ROADMAP_DATA_DIR": str(WORKDIR),
        "ROADMAP_JWT_SECRET": SECRET,
        "ROADMAP_LOG_LEVEL": "WARNING",
        "ROADMAP_SCORING_URL": scoring,
        # Scoring on its own must be told where integrations is; the reads measured here never
        # call it (only actuals and KPI measurements do), so nothing needs to listen there.
        "ROADMAP_INTEGRATIONS_URL": f"http://127.0.0.1:{free_port()}",
    }
    workers = str(args.workers)
    processes = []
    try:
        for name, port in (("scoring", scoring_port), ("roadmap", roadmap_port)):
            command = ["serve", "--service", name, "--workers", workers, "--port", str(port)]
            processes.append(start(command, env, WORKDIR / f"{name}.log"))
        processes.append(start(["worker"], env, WORKDIR / "worker.log"))
        wait_until_ready(scoring, process=processes[0])
        wait_until_ready(roadmap, process=processes[1])
        token = mint_token(AuthSettings(signing_key=SECRET), subject="bench", roles=("programme_manager",))
        run_id, run_status = finished_run(roadmap, token, portfolio_id, model_id, args.ideas)
        stop(processes.pop())  # the job worker: idle from here on, and not part of what is measured

        portfolio = f"{scoring}/scoring/portfolios/{portfolio_id}"
        targets = [
            Target("scoring", "GET /health/live (ceiling)", f"{scoring}/health/live"),
            Target("scoring", "GET a ranking, first page of 50", f"{portfolio}/models/{model_id}/ranking?pageSize=50"),
            Target("scoring", "GET ideas, filtered by journey stage, page of 50",
                   f"{portfolio}/ideas?journeyStage=onboarding&pageSize=50"),
            Target("roadmap", "GET /health/live (ceiling)", f"{roadmap}/health/live"),
            Target("roadmap", "GET a finished run (polling)", f"{roadmap}/roadmap/runs/{run_id}"),
        ]  # fmt: skip
        sizes = check(targets, token)
        loaded, alone = measure(targets, token, args)
    finally:
        for process in processes:
            stop(process)

    setup = (
        f"{args.ideas:,} ideas under RICE, a {run_status} run over them; scoring and roadmap each "
        f"`roadmap serve --service NAME --workers {args.workers}`, no ingress; wrk -t2 -c{args.clients} on loopback, "
        f"{args.warmup:g} s warm-up, median of {args.rounds} rounds of {args.seconds:g} s; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    rows = [Row(*measured, sizes[measured[0].url]) for measured in zip(targets, loaded, alone, strict=True)]
    report(rows, args, setup)


def quick(args: argparse.Namespace) -> None:
    """The quick mode: every service in one process, each request a share of that process's ceiling."""
    WORKDIR.mkdir(parents=True, exist_ok=True)
    database_url = asyncio.run(fresh_database(database_server_url(), "bench_load"))
    migrate.upgrade(database_url)
    portfolio_id, model_id, *_ = asyncio.run(load_and_score(database_url, generate_ideas(args.ideas)))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ROADMAP_DATABASE_URL": database_url,
        "ROADMAP_DATA_DIR": str(WORKDIR),
        "ROADMAP_JWT_SECRET": SECRET,
        "ROADMAP_LOG_LEVEL": "WARNING",
        **({"ROADMAP_READ_CACHE_MB": str(args.read_cache_mb)} if args.read_cache_mb is not None else {}),
    }
    server = start(["serve", "--port", str(port)], env, WORKDIR / "quick.log")
    try:
        wait_until_ready(base, process=server)
        token = mint_token(AuthSettings(signing_key=SECRET), subject="bench", roles=("programme_manager",))
        run_id, run_status = finished_run(base, token, portfolio_id, model_id, args.ideas)
        portfolio = f"{base}/scoring/portfolios/{portfolio_id}"
        targets = [
            Target("all", "GET /health/live (ceiling)", f"{base}/health/live"),
            Target("all", "GET a ranking, first page of 50", f"{portfolio}/models/{model_id}/ranking?pageSize=50"),
            Target("all", "GET ideas, filtered by journey stage, page of 50",
                   f"{portfolio}/ideas?journeyStage=onboarding&pageSize=50"),
            Target("all", "GET a finished run (polling)", f"{base}/roadmap/runs/{run_id}"),
        ]  # fmt: skip
        sizes = check(targets, token)
        args.clients = 16
        loaded, _ = measure(targets, token, args)
        # p99 at half of each request's own maximum rate: wrk's connections paced to offer it.
        half = [
            wrk_at_rate(t.url, token=token, clients=8, seconds=args.seconds, workdir=WORKDIR, rate=load.rate / 2)
            for t, load in zip(targets, loaded, strict=True)
        ]
    finally:
        stop(server)
    stack = "uvicorn with " + ("httptools and uvloop" if _importable("httptools") else "h11 and asyncio")
    cache = "off" if args.read_cache_mb == 0 else f"{32 if args.read_cache_mb is None else args.read_cache_mb} MiB"
    print(
        f"{args.ideas:,} ideas under RICE, a {run_status} run; one `roadmap serve` process ({stack}, "
        f"read cache {cache}); "
        f"wrk -t2 -c16 on loopback, median of {args.rounds} rounds of {args.seconds:g} s; p99 at half rate: "
        f"wrk -c8 paced to half of the -c16 rate (harness.wrk_at_rate); {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n"
    )
    print(
        "| request | response | requests/s | share of ceiling | p99 at c16 | paced: requests/s | share of own max | p99 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    top = loaded[0].rate
    for target, load, slow in zip(targets, loaded, half, strict=True):
        print(
            f"| {target.name} | {sizes[target.url]:,} B | {load.rate:,.0f} | {load.rate / top:.0%} | {load.p99:.1f} ms "
            f"| {slow.rate:,.0f} | {slow.rate / load.rate:.0%} | {slow.p99:.1f} ms |"
        )


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    main()
