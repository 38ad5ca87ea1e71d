"""The roadmap service's overhead: run creation and status polling under load, and a 1,000-idea run.

Baselines, measured in the same run:
- for throughput, a bare health endpoint on the same server with the same clients (the ceiling);
- for the 1,000-idea run, the optimiser alone (`solve`) on the same scenario in this process.

    .venv/bin/python -m benchmarks.roadmap_service [--clients 32] [--seconds 5]

Uses ROADMAP_DATABASE_URL's server if set (database `bench_roadmap`), otherwise the embedded
PostgreSQL in `.data/bench-postgres`. The server is `roadmap serve` (one process, with its
in-process worker), as `make run` starts it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from pathlib import Path

import httpx
import msgspec

from benchmarks.harness import ROOT, database_server_url, fresh_database, require_wrk, wrk
from benchmarks.scoring_ranking import start_server
from services.kit import migrate
from services.roadmap.optimiser import SolveConfig, decode_scenario, solve


def journey_scenario(ideas: int, *, seed: int = 11, time_limit: float = 30.0, gap: float = 0.01) -> dict:
    rng = random.Random(seed)
    phases = ["discovery", "improve", "perfection", "personalization"]
    teams = [f"team-{n}" for n in range(10)]
    per_phase = ideas * 30_000 / 10
    return {
        "name": f"{ideas} ideas",
        "phases": [{"key": key, "budget": per_phase} for key in phases],
        "teams": [{"key": team, "capacity": {key: ideas * 2.0 for key in phases}} for team in teams],
        "ideas": [
            {
                "id": f"CJ-{n}",
                "value": rng.randint(1, 100),
                "cost": rng.randint(5, 80) * 1000,
                "effort": {team: rng.randint(1, 20) for team in rng.sample(teams, 2)},
                "phases": sorted(rng.sample(phases, rng.randint(1, 4)), key=phases.index),
            }
            for n in range(ideas)
        ],
        "objective": {"phaseDiscount": {"discovery": 1, "improve": 0.95, "perfection": 0.85, "personalization": 0.75}},
        "solver": {"timeLimitSeconds": time_limit, "relativeGap": gap},
    }


def measure(
    base: str, token: str, clients: int, seconds: float, workdir: Path
) -> list[tuple[str, float, float, float]]:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        small = client.post(
            "/roadmap/scenarios/import",
            json={"portfolioId": "00000000-0000-0000-0000-0000000000b1", "document": journey_scenario(8, time_limit=1)},
        )
        small.raise_for_status()
        scenario_id = small.json()["id"]
        first_run = client.post(f"/roadmap/scenarios/{scenario_id}/runs", json={}).json()["id"]
    rows = []
    # Polling first: the runs the creation test makes keep the in-process worker busy afterwards.
    for name, method, path, body in (
        ("GET /health/live (ceiling)", "GET", "/health/live", ""),
        ("GET /roadmap/runs/{id}", "GET", f"/roadmap/runs/{first_run}", ""),
        ("POST /roadmap/scenarios/{id}/runs", "POST", f"/roadmap/scenarios/{scenario_id}/runs", "{}"),
    ):
        load = wrk(
            base + path, method=method, body=body, token=token, clients=clients, seconds=seconds, workdir=workdir
        )
        rows.append((name, load.rate, load.p50, load.p99))
    return rows


async def end_to_end(base: str, token: str, document: dict) -> tuple[float, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
        scenario = await client.post(
            "/roadmap/scenarios/import",
            json={"portfolioId": "00000000-0000-0000-0000-0000000000b2", "document": document},
        )
        scenario.raise_for_status()
        started = time.perf_counter()
        run = (await client.post(f"/roadmap/scenarios/{scenario.json()['id']}/runs", json={})).json()
        while run["status"] in ("queued", "running"):
            await asyncio.sleep(0.05)
            run = (await client.get(f"/roadmap/runs/{run['id']}")).json()
        return time.perf_counter() - started, run


async def drain(database_url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        while await conn.fetchval("SELECT count(*) FROM roadmap.runs WHERE status IN ('queued', 'running')"):
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--ideas", type=int, default=1000)
    args = parser.parse_args()
    require_wrk()

    database_url = asyncio.run(fresh_database(database_server_url(), "bench_roadmap"))
    migrate.upgrade(database_url)
    document = journey_scenario(args.ideas)

    instance = decode_scenario(msgspec.json.encode(document))
    started = time.perf_counter()
    alone = solve(instance, SolveConfig.for_instance(instance))
    alone_seconds = time.perf_counter() - started

    process, base, token = start_server(database_url, ROOT / ".data" / "bench", roles=("programme_manager",))
    try:
        rows = measure(base, token, args.clients, args.seconds, ROOT / ".data" / "bench")
        asyncio.run(drain(database_url))  # the throughput test's runs finish first: one run alone
        service_seconds, run = asyncio.run(end_to_end(base, token, document))
    finally:
        process.terminate()
        process.wait(timeout=30)

    print(
        f"Throughput, wrk with {args.clients} connections for {args.seconds:g} s each, one `roadmap serve` process:\n"
    )
    print("| request | requests/s | share of ceiling | p50 | p99 |")
    print("|---|---:|---:|---:|---:|")
    ceiling = rows[0][1]
    for name, rate, p50, p99 in rows:
        print(f"| {name} | {rate:,.0f} | {rate / ceiling:.0%} | {p50:.1f} ms | {p99:.1f} ms |")
    summary = run.get("summary") or {}
    print(
        f"\n{args.ideas}-idea run (time limit {document['solver']['timeLimitSeconds']:g} s, gap "
        f"{document['solver']['relativeGap']:.0%}):\n"
    )
    print("| path | seconds | status | objective | ratio |")
    print("|---|---:|---|---:|---:|")
    print(f"| optimiser alone (`solve`) | {alone_seconds:.2f} | {alone.status} | {alone.objective:,.1f} | 1.00x |")
    print(
        f"| service: POST run, job, worker, poll until done | {service_seconds:.2f} | {summary.get('status')} "
        f"| {summary.get('objective') or 0:,.1f} | {service_seconds / alone_seconds:.2f}x |"
    )


if __name__ == "__main__":
    main()
