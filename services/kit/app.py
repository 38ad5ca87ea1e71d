"""Building a service's Litestar app the same way for all three services."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Any

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from services.kit.auth import PUBLIC_PATH_PATTERNS, auth_middleware
from services.kit.db import ConnectionSource, PoolSource, database_unavailable, provide_connection
from services.kit.health import HEALTH_HANDLERS
from services.kit.input_guard import refuse_unreadable_input
from services.kit.observability import ObservabilityMiddleware, note_on_access_line
from services.kit.openapi_problems import document_problems
from services.kit.problems import AppError, problem_details_plugin, status_of
from services.kit.settings import Settings


def log_unhandled_error(logger: logging.Logger, scope: Any, _traceback: list[str]) -> None:
    """Log an error the way its status asks.

    A 4xx is the caller's mistake and no news to us: the reason goes on the request's one
    access-log line (INFO), with no traceback. A 5xx we answered on purpose (a dependency is
    unavailable) is one ERROR line without a traceback: its message names the cause, and the
    traceback would only show where we raised it. A database outage is already logged once
    per request (problems.py): the same traceback hundreds of times a second would bury
    everything else. Anything else is a bug: ERROR, with the traceback.
    """
    exc = sys.exc_info()[1] or Exception()
    status = status_of(exc)
    if status < 500:
        note_on_access_line(problem=type(exc).__name__, detail=str(getattr(exc, "detail", "") or exc)[:300])
        return
    if database_unavailable(exc):
        return
    if isinstance(exc, AppError):
        logger.error("%s: %s (path=%r)", type(exc).__name__, exc.detail, scope["path"])
        return
    logger.exception("Uncaught exception (connection_type=%s, path=%r):", scope["type"], scope["path"])


class ServiceApp:
    """A service: its Litestar app, wrapped by the observability middleware.

    `asgi` is what a server runs; `litestar` is there for its lifespan and OpenAPI.
    """

    def __init__(self, name: str, litestar: Litestar) -> None:
        self.name = name
        self.litestar = litestar
        self.asgi = ObservabilityMiddleware(litestar, service=name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.asgi(scope, receive, send)


def build_service_app(
    name: str,
    *,
    settings: Settings,
    route_handlers: Sequence[Any],
    title: str,
    description: str,
    source: ConnectionSource | None = None,
    dependencies: dict[str, Provide] | None = None,
    state: dict[str, Any] | None = None,
) -> ServiceApp:
    """A service app serving `route_handlers` under `/<name>`, with health, auth and errors.

    When `source` is given (tests, the single process) the app uses it and leaves its
    lifetime to the caller; otherwise the app opens and closes its own pool.
    """

    @contextlib.asynccontextmanager
    async def own_pool(app: Litestar) -> AsyncIterator[None]:
        pool_source = await PoolSource.open(settings)
        app.state.db = pool_source
        try:
            yield
        finally:
            await pool_source.close()

    litestar = Litestar(
        route_handlers=[Router(path=f"/{name}", route_handlers=list(route_handlers)), *HEALTH_HANDLERS],
        dependencies={"conn": Provide(provide_connection), **(dependencies or {})},
        lifespan=[] if source is not None else [own_pool],
        middleware=[auth_middleware(settings.auth)],
        before_request=refuse_unreadable_input,
        plugins=[problem_details_plugin()],
        openapi_config=OpenAPIConfig(
            title=title,
            version="1.0.0",
            description=description,
            path=f"/{name}/schema",
            render_plugins=[SwaggerRenderPlugin()],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"bearer": []}],
        ),
        request_max_body_size=settings.max_body_bytes,
        state=State({**(state or {}), **({"db": source} if source is not None else {})}),
        logging_config=LoggingConfig(
            configure_root_logger=False,
            # Unhandled errors are logged with their traceback, through our JSON root handler.
            log_exceptions="always",
            exception_logging_handler=log_unhandled_error,
            loggers={"litestar": {"level": "INFO", "handlers": [], "propagate": True}},
        ),
        debug=False,
    )
    # The routes are all registered now, so the document can be built and completed once.
    document_problems(litestar.openapi_schema, public_patterns=PUBLIC_PATH_PATTERNS)
    return ServiceApp(name, litestar)
