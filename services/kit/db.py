"""The asyncpg pool, and one transaction per request.

`provide_connection` is a yield dependency: the transaction commits after the handler
returns and before the response is sent, so a failed commit becomes an error response
rather than a false success, and an exception anywhere rolls everything back.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

import asyncpg
import msgspec
from litestar.datastructures import State
from litestar.di import NamedDependency

from services.kit.settings import Settings


# How a handler asks for the request's connection: `conn: Conn`.
Conn = NamedDependency[asyncpg.Connection]


class ConnectionSource(Protocol):
    """Where request handlers get their connection: a pool, or one connection in tests."""

    def connection(self) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]: ...

    async def close(self) -> None: ...


def _encode_json(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb columns arrive as Python objects and leave from them, without hand-written dumps;
    # msgspec's codec is several times faster than the standard library's on large pages.
    await conn.set_type_codec("jsonb", encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog")


class PoolSource:
    """The production source: a pool of connections."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, settings: Settings) -> PoolSource:
        if not settings.database_url:
            raise RuntimeError("no database URL: start the embedded PostgreSQL first")
        pool = await asyncpg.create_pool(
            settings.database_url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            command_timeout=settings.db_command_timeout_seconds,
            init=_init_connection,
        )
        return cls(pool)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as conn:
            yield conn

    async def close(self) -> None:
        await self.pool.close()


async def connect(database_url: str) -> asyncpg.Connection:
    """One connection with the same codecs as the pool's (for CLI commands and tests)."""
    conn = await asyncpg.connect(database_url)
    await _init_connection(conn)
    return conn


async def provide_connection(state: State) -> AsyncIterator[asyncpg.Connection]:
    """The request's connection, inside the request's transaction."""
    source: ConnectionSource = state.db
    async with source.connection() as conn, conn.transaction():
        yield conn
