"""The asyncpg pool, and one transaction per request that writes.

`provide_connection` is a yield dependency: the transaction commits after the handler
returns and before the response is sent, so a failed commit becomes an error response
rather than a false success, and an exception anywhere rolls everything back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, TypeVar

import asyncpg
import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from services.kit.settings import Settings

log = logging.getLogger("roadmap.db")

# How a handler asks for the request's connection: `conn: Conn`.
Conn = NamedDependency[asyncpg.Connection]

T = TypeVar("T")

# Opening a connection to a server that does not answer (a host gone, not a refusal) fails
# after this long, so a request during an outage gets its 503 rather than hanging.
CONNECT_TIMEOUT_SECONDS = 10.0

# Failures that mean "the database is not reachable right now". OperatorInterventionError
# covers a server shutting down, starting up, or terminating the connection.
_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    ConnectionError,
    TimeoutError,
)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc`, or what it groups or was raised from, is a lost or refused connection.

    A connection that dies mid-request surfaces in several shapes: the driver's error, the
    transaction's cleanup failing on the closed connection, or both grouped together.
    """
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _UNAVAILABLE):
            return True
        # Over a unix socket a stopped server is a missing socket file: FileNotFoundError.
        if isinstance(current, OSError) and _raised_in_driver(current):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "connection is closed" in str(current):
            return True
        # A server that shuts down sends its FATAL error between queries; the driver, not yet
        # aware that the socket is closing, refuses the next query with this protocol error.
        if isinstance(current, asyncpg.InternalClientError):
            return True
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


def _raised_in_driver(exc: BaseException) -> bool:
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_globals.get("__name__", "").startswith("asyncpg."):
            return True
        traceback = traceback.tb_next
    return False


# Between attempts while the database is unavailable; the last one repeats.
_RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0)


async def retry_while_unavailable(operation: Callable[[], Awaitable[T]], *, what: str, give_up_after: float) -> T:
    """Run `operation` until it succeeds, trying again while the database is unavailable.

    For work that must not be lost to a database restart, such as a job recording its
    outcome. `operation` must be safe to repeat (it opens its own connection, and its
    writes are conditional or idempotent). Other errors, and unavailability lasting past
    `give_up_after` seconds, are raised.
    """
    began = time.monotonic()
    attempt = 0
    while True:
        try:
            return await operation()
        except Exception as exc:
            waited = time.monotonic() - began
            if not database_unavailable(exc) or waited >= give_up_after:
                raise
            delay = _RETRY_DELAYS[min(attempt, len(_RETRY_DELAYS) - 1)]
            attempt += 1
            fields = {"what": what, "error": type(exc).__name__, "in_s": delay, "waited_s": round(waited, 1)}
            log.warning("database unavailable; trying again", extra={"fields": fields})
            await asyncio.sleep(delay)


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


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection needs on its way back to the pool: nothing more than asyncpg's own
    rollback of a transaction left open. asyncpg's default sends a reset query (unlisten,
    reset settings, release advisory locks) on every release, one round trip per request for
    session state this pool never has: no SET, LISTEN or session lock is used on it (the job
    queue listens on a connection of its own)."""


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
            timeout=CONNECT_TIMEOUT_SECONDS,
            init=_init_connection,
            reset=_keep_session,
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


# Requests that only read. They run without BEGIN and COMMIT: each statement sees what was
# committed when it started, exactly as in a READ COMMITTED transaction, and a page read saves
# two of its round trips to the database. No GET handler writes (checked by running the
# access matrix and the API tests with GETs in read-only transactions).
_READ_METHODS = frozenset({"GET", "HEAD"})


async def provide_connection(state: State, request: Request) -> AsyncIterator[asyncpg.Connection]:
    """The request's connection: inside the request's transaction, unless the request only reads."""
    source: ConnectionSource = state.db
    async with source.connection() as conn:
        if request.method in _READ_METHODS:
            yield conn
            return
        async with conn.transaction():
            yield conn


def read_connection(request: Request) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:
    """A connection for a hot read, taken by its handler rather than injected: resolving a
    generator dependency (its cleanup group, the shield around it) cost a page read about a
    seventh of its time once the page itself was cheap (issue 14). Same as `conn` for a GET:
    no transaction, released when the block ends."""
    source: ConnectionSource = request.app.state.db
    return source.connection()
