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
import gc
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


class _Contribution(msgspec.Struct):
    criterion: str
    inputs: dict[str, float]
    contribution: float


class _RankedIdea(msgspec.Struct, rename="camel"):
    rank: int | None
    ref: str
    title: str
    score: float | None
    breakdown: list[_Contribution]
    missing: list[str]
    reason: str | None
    persona: str | None
    journey_stage: str | None
    touchpoint: str | None
    stale: bool
    insufficient_input: bool
    warning: str | None
    disagreement: float | None
    quadrant: str | None


class _RankingPage(msgspec.Struct, rename="camel"):
    items: list[_RankedIdea]
    next_cursor: str | None


# The walking client decodes each page into typed structs, as the baseline decodes its ideas.
_decode_page = msgspec.json.Decoder(_RankingPage).decode


class HttpWalks(msgspec.Struct):
    first: float  # the first walk after the ideas were scored
    afresh: float  # best of three, each after a change, so every page is read from the database
    again: float  # best of two with nothing changed: the read cache may answer


def read_ranking_over_http(
    base: str, portfolio_id: str, model_id: str, tokens: tuple[str, str], count: int
) -> HttpWalks:
    """Walks of the whole ranking over HTTP, 1,000 ideas a page, following cursors.

    The server's read cache (32 MiB) answers a page again while nothing changed: a
    10,000-idea ranking fits in it, a 100,000-idea one does not (each of its walks reads every
    page again). So a walk "afresh" follows a change of one idea's title, made through the API,
    which moves the portfolio's read generation.
    """
    url = f"{base}/scoring/portfolios/{portfolio_id}/models/{model_id}/ranking"
    viewer, editor = ({"Authorization": f"Bearer {token}"} for token in tokens)
    last_ref = f"B-{count - 1:06d}"
    with httpx.Client(timeout=60) as client:
        client.get(url, params={"pageSize": 1}, headers=viewer).raise_for_status()  # warm up

        def read_all() -> None:
            seen, cursor = 0, None
            while True:
                params = {"pageSize": 1000, **({"cursor": cursor} if cursor else {})}
                response = client.get(url, params=params, headers=viewer)
                response.raise_for_status()
                page = _decode_page(response.content)
                seen += len(page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert seen == count, (seen, count)

        def after_a_change() -> float:
            title = {"title": f"Retitled at {time.perf_counter()}"}
            changed = client.patch(
                f"{base}/scoring/portfolios/{portfolio_id}/ideas/{last_ref}", json=title, headers=editor
            )
            changed.raise_for_status()
            return best_of(1, read_all)

        first = best_of(1, read_all)
        afresh = min(after_a_change() for _ in range(3))
        return HttpWalks(first=first, afresh=afresh, again=best_of(2, read_all))


def start_server(
    database_url: str, data_dir: Path, roles: tuple[str, ...] = ("viewer",)
) -> tuple[subprocess.Popen, str, str]:
    """`roadmap serve` on a free port against `database_url`, and a token for `roles`."""
    port = free_port()
    env = {
        **os.environ,
        "ROADMAP_DATABASE_URL": database_url,
        "ROADMAP_DATA_DIR": str(data_dir),
        "ROADMAP_JWT_SECRET": _SECRET,
        "ROADMAP_LOG_LEVEL": "WARNING",
        "PORT": str(port),
    }
    process = subprocess.Popen([str(ROADMAP), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, seconds=60, process=process)
    return process, base, token_for(roles)


_SECRET = "bench-" + "k" * 40


def token_for(roles: tuple[str, ...]) -> str:
    """A token `roadmap serve` started here accepts, for the portfolio's creator."""
    return mint_token(AuthSettings(signing_key=_SECRET), subject="bench", roles=roles)


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
            # As `roadmap serve` does before serving (cli.settle_heap): a full collection over
            # all this process has built, the generated ideas included, stalled a timed walk by
            # up to 50 ms, one walk in two. The baseline and the walks are timed alike.
            gc.collect()
            gc.freeze()
            baseline = msgspec_baseline(ideas)
            portfolio_id, model_id, load, score, rank = asyncio.run(load_and_score(database_url, ideas))
            tokens = (token, token_for(("programme_manager",)))
            rows.append(
                (size, baseline, load, score, rank, read_ranking_over_http(base, portfolio_id, model_id, tokens, size))
            )
    finally:
        process.terminate()
        process.wait(timeout=20)

    print(
        "| ideas | msgspec baseline | bulk create (service) | score all under a new model (service) "
        "| full ranking read (service) | over HTTP: first walk | walk afresh | afresh / baseline "
        "| walked again | again / baseline |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    for size, baseline, load, score, rank, walks in rows:
        print(
            f"| {size:,} | {ms(baseline)} | {ms(load)} | {ms(score)} | {ms(rank)} ({rank / baseline:.1f}x) "
            f"| {ms(walks.first)} ({walks.first / baseline:.2f}x) | {ms(walks.afresh)} | {walks.afresh / baseline:.2f}x "
            f"| {ms(walks.again)} | {walks.again / baseline:.2f}x |"
        )


if __name__ == "__main__":
    main()
