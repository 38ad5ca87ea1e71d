"""Shared fixtures: a real PostgreSQL for the whole session, migrated once per test worker.

The server is the embedded one (pgserver) in `.data/test-postgres`, so `make test` needs
nothing installed; set ROADMAP_TEST_DATABASE_URL to use another server instead. Each
pytest-xdist worker gets its own database.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import hypothesis
import msgspec
import pytest

from services.kit import migrate
from services.kit.auth import mint_token
from services.kit.db import connect
from services.kit.embedded_pg import embedded_database_url
from services.kit.settings import AuthSettings, Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# A commit's test run must give the same answer every time, on a shared, slow machine too:
# by default Hypothesis draws the same examples on every run and has no deadline. To look for
# new failing examples, run with HYPOTHESIS_PROFILE=explore (random draws, many more of them).
hypothesis.settings.register_profile("repeatable", derandomize=True, deadline=None, database=None)
hypothesis.settings.register_profile("explore", deadline=None, max_examples=1000)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def _with_database(url: str, name: str) -> str:
    # Replace the database part of a URL, keeping any query (the socket folder for pgserver).
    return re.sub(r"^(postgres(?:ql)?://[^/]*/)([^?]*)", lambda m: m.group(1) + name, url)


@pytest.fixture(scope="session")
def server_url() -> str:
    """A URL of the test server's maintenance database."""
    configured = os.environ.get("ROADMAP_TEST_DATABASE_URL")
    if configured:
        return configured
    return embedded_database_url(PROJECT_ROOT / ".data" / "test-postgres", database="postgres")


@pytest.fixture(scope="session")
def make_database(server_url: str, worker_id: str, testrun_uid: str) -> Iterator[Callable[[str], str]]:
    """Create a fresh, empty database for this worker and return its URL; all are dropped at the end.

    Names carry the run's id, so two test runs sharing one server never drop each other's databases.
    """
    import asyncio

    made: list[str] = []

    async def on_server(*statements: str) -> None:
        conn = await asyncpg.connect(server_url)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    def make(purpose: str) -> str:
        name = f"test_{purpose}_{worker_id}_{testrun_uid[:8]}"
        asyncio.run(on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))
        made.append(name)
        return _with_database(server_url, name)

    yield make
    asyncio.run(on_server(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in made)))


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[str], str]) -> str:
    """This worker's database, with every migration applied once."""
    url = make_database("app")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def auth_settings() -> AuthSettings:
    return AuthSettings(signing_key="test-signing-key-" + "x" * 32)


@pytest.fixture(scope="session")
def settings(database_url: str, auth_settings: AuthSettings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=database_url, auth=auth_settings, data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
async def session_conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def conn(session_conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    transaction = session_conn.transaction()
    await transaction.start()
    # A portfolio's read generation moves, and an idea's changed fields reach its score rows,
    # when a transaction commits (migrations 0024 and 0025); the test's requests never commit,
    # so each statement does both instead, as a commit would.
    await session_conn.execute(
        "SET CONSTRAINTS scoring.read_touch_bumps_generation, scoring.ideas_update_copies_to_scores IMMEDIATE"
    )
    try:
        yield session_conn
    finally:
        await transaction.rollback()


class RolledBackSource:
    """Hands the test's connection to the app, so requests run inside the test's transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    def connection(self):  # type: ignore[no-untyped-def]
        import contextlib

        @contextlib.asynccontextmanager
        async def use() -> AsyncIterator[asyncpg.Connection]:
            yield self.conn

        return use()

    async def close(self) -> None:
        return None


class HandClock:
    """A clock that stands still until a test moves it: `clock.advance(days=91)`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> HandClock:
    """The app's "now" in `client`: today, until the test moves it."""
    return HandClock(datetime.now(UTC))


@pytest.fixture
async def client(settings: Settings, conn: asyncpg.Connection, clock: HandClock) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP into the single-process app, every request in the test's rolled-back transaction."""
    from services.single_process import create_single_process_app

    # The app gets its connection source directly, so there is no lifespan to run.
    app = create_single_process_app(settings, source=RolledBackSource(conn), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def uncached_client(
    settings: Settings, conn: asyncpg.Connection, clock: HandClock
) -> AsyncIterator[httpx.AsyncClient]:
    """`client`'s app with the read cache off (kit/read_cache.py), on the same transaction."""
    from services.single_process import create_single_process_app

    uncached = msgspec.structs.replace(settings, read_cache_mb=0)
    app = create_single_process_app(uncached, source=RolledBackSource(conn), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture(scope="session")
def token_for(auth_settings: AuthSettings) -> Callable[..., dict[str, str]]:
    """`token_for("viewer")` -> Authorization headers for a caller with that role."""

    def headers(*roles: str, subject: str = "tester@example.com", groups: tuple[str, ...] = ()) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(auth_settings, subject=subject, roles=roles, groups=groups)}

    return headers


@pytest.fixture
def member_of(client: httpx.AsyncClient, token_for: Callable[..., dict[str, str]]) -> Callable[..., object]:
    """`await member_of(portfolio_id, "leader")` -> Authorization headers of a subject holding
    exactly that role on the portfolio (an admin grants it through the API).

    The subject is named after its roles unless given, so two roles never share one.
    """

    async def headers(portfolio_id: object, *roles: str, subject: str | None = None) -> dict[str, str]:
        subject = subject or f"{'+'.join(roles)}@example.com"
        response = await client.put(
            f"/scoring/portfolios/{portfolio_id}/members/{subject}",
            json={"roles": list(roles)},
            headers=token_for("admin", subject="admin@example.com"),
        )
        assert response.status_code == 200, response.text
        return token_for(*roles, subject=subject)

    return headers
