"""The scoring service: portfolios, the idea backlog, scoring models, scores and rankings."""

from __future__ import annotations

from services.kit.app import ServiceApp, build_service_app
from services.kit.db import ConnectionSource
from services.kit.settings import Settings
from services.scoring.api import ROUTES


def create_app(settings: Settings, *, source: ConnectionSource | None = None) -> ServiceApp:
    """The scoring service's app, serving under `/scoring`."""
    return build_service_app(
        "scoring",
        settings=settings,
        route_handlers=ROUTES,
        title="Scoring service",
        description="Portfolios, the customer-journey idea backlog, versioned scoring models and rankings.",
        source=source,
    )
