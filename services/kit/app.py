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
from litestar.exceptions import HTTPException
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from services.kit.auth import PUBLIC_PATH_PATTERNS, auth_middleware
from services.kit.db import ConnectionSource, PoolSource, database_unavailable, provide_connection
from services.kit.health import HEALTH_HANDLERS
from services.kit.input_guard import refuse_nul_characters
from services.kit.observability import ObservabilityMiddleware
from services.kit.openapi_problems import document_problems
from services.kit.problems import AppError, problem_details_plugin
from services.kit.settings import Settings

def log_unhandled_error(logger: logging.Logger, scope: Any, _traceback: list[str]) -> None:
    """Log an unhandled error with its traceback, except a database outage.

    An outage is answered 503 and logged as one warning line per request (problems.py): the
    same traceback hundreds of times a second would bury everything else in the log.
    """
    if database_unavailable(sys.exc_info()[1] or Exception()):
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
        before_request=refuse_nul_characters,
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
            disable_stack_trace={AppError, HTTPException},
            exception_logging_handler=log_unhandled_error,
            loggers={"litestar": {"level": "INFO", "handlers": [], "propagate": True}},
        ),
        debug=False,
    )
    # The routes are all registered now, so the document can be built and completed once.
    document_problems(litestar.openapi_schema, public_patterns=PUBLIC_PATH_PATTERNS)
    return ServiceApp(name, litestar)
