"""Ranking 10,000 and 100,000 ideas, through the service layer and over HTTP.

Baseline, measured in the same run: decoding and encoding the same ideas (as JSON) with
msgspec alone, i.e. the least work any JSON API over these ideas must do. Figures are
reported as ratios to it.

    .venv/bin/python -m benchmarks.scoring_ranking [--sizes 10000 100000]

Uses ROADMAP_DATABASE_URL's server if set (a database `bench_scoring` is created in it),
otherwise the embedded PostgreSQL in `.data/bench-postgres`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import time
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
import msgspec

from benchmarks.harness import ROADMAP, ROOT, database_server_url, free_port, fresh_database, wait_until_ready
from services.kit import migrate
from services.kit.auth import Caller, Role, mint_token
from services.kit.db import connect
from services.kit.settings import AuthSettings
from services.scoring import models_service, rankings, service
from services.scoring.domain import PHASES, Estimates, IdeaDraft, JourneyContext
from services.scoring.schemas import IdeaIn

PERSONAS = ("First-time buyer", "Busy parent", "Small-business owner", "Retiree", "Student")
STAGES = ("awareness", "consideration", "onboarding", "usage", "support", "renewal")
TOUCHPOINTS = ("mobile app", "website", "branch", "call centre", "email", "chatbot")
TEAMS = ("web", "mobile", "backend", "data", "ops", "cx")


def generate_ideas(count: int, seed: int = 7) -> list[IdeaDraft]:
    rng = random.Random(seed)
    return [
        IdeaDraft(
            ref=f"B-{n:06d}",
            title=f"Improvement {n} for the {rng.choice(STAGES)} stage",
            description="Generated for the ranking benchmark.",
            journey=JourneyContext(
                persona=rng.choice(PERSONAS), journey_stage=rng.choice(STAGES), touchpoint=rng.choice(TOUCHPOINTS)
            ),
            estimates=Estimates(
                customer_impact=rng.randint(1, 10),
                reach=rng.randint(100, 50_000),
                confidence=round(rng.uniform(0.4, 1.0), 2),
                effort={team: rng.randint(2, 60) for team in rng.sample(TEAMS, rng.randint(1, 3))},
                cost=rng.randint(5, 400) * 1000,
                annual_benefit=rng.randint(0, 900) * 1000,
            ),
            phases=PHASES,
            tags=("benchmark",),
        )
        for n in range(count)
    ]


def as_wire(idea: IdeaDraft) -> dict[str, object]:
    return {
        "ref": idea.ref,
        "title": idea.title,
        "description": idea.description,
        "journey": {
            "persona": idea.journey.persona,
            "journeyStage": idea.journey.journey_stage,
            "touchpoint": idea.journey.touchpoint,
        },
        "estimates": {
            "customerImpact": idea.estimates.customer_impact,
            "reach": idea.estimates.reach,
            "confidence": idea.estimates.confidence,
            "effort": idea.estimates.effort,
            "cost": idea.estimates.cost,
            "annualBenefit": idea.estimates.annual_benefit,
        },
        "phases": list(idea.phases),
        "tags": list(idea.tags),
    }


def best_of(repeats: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def msgspec_baseline(ideas: list[IdeaDraft]) -> float:
    """Decode the ideas' JSON into typed structs and encode them again: the floor for any API."""
    payload = msgspec.json.encode([as_wire(idea) for idea in ideas])
    decoder = msgspec.json.Decoder(list[IdeaIn])
    return best_of(3, lambda: msgspec.json.encode(decoder.decode(payload)))


# The portfolio's creator, hence its programme manager; the HTTP walk's token has the same subject.
BENCH_CALLER = Caller(subject="bench", roles=frozenset({Role.PROGRAMME_MANAGER}))


async def load_and_score(database_url: str, ideas: list[IdeaDraft]) -> tuple[str, str, float, float, float]:
    """Insert the ideas, then time scoring them all and reading the whole ranking in-process."""
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            portfolio = await service.create_portfolio(
                conn, BENCH_CALLER, name=f"bench {len(ideas)}", currency="EUR", phase_labels={p: p for p in PHASES}
            )
        started = time.perf_counter()
        for start in range(0, len(ideas), 10_000):
            async with conn.transaction():
                await service.create_ideas(conn, BENCH_CALLER, portfolio.id, ideas[start : start + 10_000])
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        async with conn.transaction():
            version = await models_service.create_model(
                conn, BENCH_CALLER, portfolio.id, name="RICE", definition={"kind": "rice"}
            )
        score_seconds = time.perf_counter() - started
        await conn.execute("ANALYZE scoring.scores; ANALYZE scoring.ideas")
        await read_ranking_in_process(conn, portfolio.id, version.model_id)  # warm the cache as HTTP does
        started = time.perf_counter()
        assert await read_ranking_in_process(conn, portfolio.id, version.model_id) == len(ideas)
        rank_seconds = time.perf_counter() - started
        return str(portfolio.id), str(version.model_id), load_seconds, score_seconds, rank_seconds
    finally:
        await conn.close()


async def read_ranking_in_process(conn: asyncpg.Connection, portfolio_id: UUID, model_id: UUID) -> int:
    """Walk the whole ranking through the service layer, page by page, encoding each page."""
    from services.scoring.presenters import ranking_out

    seen, cursor = 0, None
    while True:
        page = await rankings.ranking(
            conn, BENCH_CALLER, portfolio_id, model_id, version=None, page=1, page_size=1000, cursor=cursor
        )
        msgspec.json.encode(ranking_out(page, page=1, page_size=1000))
        seen += len(page.rows)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def read_ranking_over_http(base: str, portfolio_id: str, model_id: str, token: str, count: int) -> tuple[float, float]:
    """Walks of the whole ranking over HTTP, 1,000 ideas a page, following cursors: the first
    walk, which reads every page from the database, and the best of two more, which the
    server's read cache (32 MiB) may answer while nothing changed (a 10,000-idea ranking fits
    in it; a 100,000-idea one does not, so each of its walks reads every page again)."""
    url = f"{base}/scoring/portfolios/{portfolio_id}/models/{model_id}/ranking"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=60) as client:
        client.get(url, params={"pageSize": 1}, headers=headers).raise_for_status()  # warm up

        def read_all() -> None:
            seen, cursor = 0, None
            while True:
                params = {"pageSize": 1000, **({"cursor": cursor} if cursor else {})}
                response = client.get(url, params=params, headers=headers)
                response.raise_for_status()
                page = msgspec.json.decode(response.content)
                seen += len(page["items"])
                cursor = page["nextCursor"]
                if cursor is None:
                    break
            assert seen == count, (seen, count)

        return best_of(1, read_all), best_of(2, read_all)


def start_server(
    database_url: str, data_dir: Path, roles: tuple[str, ...] = ("viewer",)
) -> tuple[subprocess.Popen, str, str]:
    """`roadmap serve` on a free port against `database_url`, and a token for `roles`."""
    port = free_port()
    secret = "bench-" + "k" * 40
    env = {
        **os.environ,
        "ROADMAP_DATABASE_URL": database_url,
        "ROADMAP_DATA_DIR": str(data_dir),
        "ROADMAP_JWT_SECRET": secret,
        "ROADMAP_LOG_LEVEL": "WARNING",
        "PORT": str(port),
    }
    process = subprocess.Popen([str(ROADMAP), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, seconds=60, process=process)
    token = mint_token(AuthSettings(signing_key=secret), subject="bench", roles=roles)
    return process, base, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()

    database_url = asyncio.run(fresh_database(database_server_url(), "bench_scoring"))
    migrate.upgrade(database_url)
    process, base, token = start_server(database_url, ROOT / ".data" / "bench")
    rows = []
    try:
        for size in args.sizes:
            ideas = generate_ideas(size)
            baseline = msgspec_baseline(ideas)
            portfolio_id, model_id, load, score, rank = asyncio.run(load_and_score(database_url, ideas))
            http, again = read_ranking_over_http(base, portfolio_id, model_id, token, size)
            rows.append((size, baseline, load, score, rank, http, again))
    finally:
        process.terminate()
        process.wait(timeout=20)

    print(
        "| ideas | msgspec baseline | bulk create (service) | score all under a new model (service) "
        "| full ranking read (service) | over HTTP, first walk | HTTP / baseline | walked again | again / baseline |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, baseline, load, score, rank, http, again in rows:
        print(
            f"| {size:,} | {baseline * 1000:.0f} ms | {load * 1000:.0f} ms | {score * 1000:.0f} ms "
            f"| {rank * 1000:.0f} ms ({rank / baseline:.1f}x) | {http * 1000:.0f} ms | {http / baseline:.1f}x "
            f"| {again * 1000:.0f} ms | {again / baseline:.1f}x |"
        )


if __name__ == "__main__":
    main()
