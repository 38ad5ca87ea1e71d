"""The scoring service: portfolios, the idea backlog, scoring models, scores and rankings."""

from __future__ import annotations

from litestar.di import Provide

from services.kit.app import ServiceApp, build_service_app
from services.kit.clock import Clock, system_clock
from services.kit.db import ConnectionSource
from services.kit.settings import Settings
from services.scoring.api import ROUTES


def create_app(
    settings: Settings, *, source: ConnectionSource | None = None, clock: Clock = system_clock
) -> ServiceApp:
    """The scoring service's app, serving under `/scoring`; `clock` is its "now" (tests set it)."""
    return build_service_app(
        "scoring",
        settings=settings,
        route_handlers=ROUTES,
        title="Scoring service",
        description="Portfolios, the customer-journey idea backlog, versioned scoring models and rankings.",
        source=source,
        dependencies={"clock": Provide(lambda: clock, sync_to_thread=False)},
        # Also in the state, for the hot reads (api.clock_of): a handler with two dependencies
        # has Litestar resolve them in a task group, two tasks spawned on every request.
        state={"clock": clock},
    )
