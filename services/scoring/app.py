"""The scoring service: portfolios, the idea backlog, scoring models, scores and rankings."""

from __future__ import annotations

from litestar.di import Provide

from services.kit.app import ServiceApp, build_service_app
from services.kit.clock import Clock, system_clock
from services.kit.db import ConnectionSource
from services.kit.read_cache import ReadCache
from services.kit.settings import Settings
from services.scoring.api import ROUTES
from services.scoring.integrations_client import IntegrationsClient


def create_app(
    settings: Settings,
    *,
    source: ConnectionSource | None = None,
    clock: Clock = system_clock,
    integrations: IntegrationsClient | None = None,
) -> ServiceApp:
    """The scoring service's app, serving under `/scoring`; `clock` is its "now" (tests set it).

    It asks the integrations service whether an idea is delivered in Jira before it takes the
    idea's actuals: through the given client (the single process passes one that calls the
    integrations app in-process), or one for `ROADMAP_INTEGRATIONS_URL`.
    """
    if integrations is None:
        integrations_url = settings.integrations_url or settings.services_url
        if not integrations_url:
            raise ValueError("the scoring service on its own needs ROADMAP_INTEGRATIONS_URL (or ROADMAP_SERVICES_URL)")
        integrations = IntegrationsClient.over_http(integrations_url)
    client = integrations
    return build_service_app(
        "scoring",
        settings=settings,
        route_handlers=ROUTES,
        title="Scoring service",
        description="Portfolios, the customer-journey idea backlog, versioned scoring models and rankings.",
        source=source,
        dependencies={
            "clock": Provide(lambda: clock, sync_to_thread=False),
            "integrations": Provide(lambda: client, sync_to_thread=False),
        },
        # Also in the state, for the hot reads (api.clock_of): a handler with two dependencies
        # has Litestar resolve them in a task group, two tasks spawned on every request.
        state={"clock": clock, "read_cache": ReadCache(settings.read_cache_mb * 1024 * 1024)},
    )
