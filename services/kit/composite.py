"""All three services in one process, each under its own path prefix.

Each service keeps its own app, OpenAPI document and lifespan, exactly as when it runs
alone; this dispatcher only chooses the app by the first path segment. Paths outside the
prefixes (health, metrics) go to the first service, which checks the shared database.

Background work (the in-process job worker) starts after the services and stops before
them: each is a coroutine function given an event that is set when the app shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from services.kit.app import ServiceApp

log = logging.getLogger("roadmap.composite")

BackgroundWork = Callable[[asyncio.Event], Awaitable[None]]


class CompositeApp:
    def __init__(self, services: Sequence[ServiceApp], *, background: Sequence[BackgroundWork] = ()) -> None:
        self.services = list(services)
        self.background = list(background)
        self.by_prefix = {f"/{service.name}": service for service in self.services}

    def _service_for(self, path: str) -> ServiceApp:
        first_segment = "/" + path.lstrip("/").split("/", 1)[0]
        return self.by_prefix.get(first_segment, self.services[0])

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self._service_for(scope.get("path", "/"))(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(self) -> Any:
        """Start every service (pools), then the background work; stop them in reverse order."""
        async with contextlib.AsyncExitStack() as stack:
            for service in self.services:
                await stack.enter_async_context(service.litestar.lifespan())
            await stack.enter_async_context(self._background_running())
            yield

    @contextlib.asynccontextmanager
    async def _background_running(self) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(work(stop)) for work in self.background]
        for task in tasks:
            task.add_done_callback(_log_failure)
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self.lifespan())
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
        await send({"type": "lifespan.shutdown.complete"})


def _log_failure(task: asyncio.Task[None]) -> None:
    # Background work runs unawaited until shutdown: without this a failure would be silent.
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("background work failed", exc_info=exc)


class LaterApp:
    """An ASGI app named before it exists: services in one process that call each other (scoring
    asks integrations about delivery; integrations reads plans from scoring) each need the
    other's app when they are made. `bind` gives the app before the first request."""

    def __init__(self) -> None:
        self.app: Any = None

    def bind(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.app is None:
            raise RuntimeError("LaterApp called before bind()")
        await self.app(scope, receive, send)
