"""The roadmap service: scenarios, optimisation runs, plans and approvals."""

from __future__ import annotations

from litestar.di import Provide

from services.kit.app import ServiceApp, build_service_app
from services.kit.db import ConnectionSource
from services.kit.events.service import SubscriberAccess
from services.kit.settings import Settings
from services.roadmap.plans.api import PLAN_ROUTES
from services.roadmap.scenarios.api import SCENARIO_ROUTES
from services.roadmap.scoring_client import ScoringClient
from services.roadmap.subscriptions_api import SUBSCRIPTION_ROUTES


def create_app(
    settings: Settings,
    *,
    source: ConnectionSource | None = None,
    scoring: ScoringClient | None = None,
    subscribers: SubscriberAccess | None = None,
) -> ServiceApp:
    """The roadmap service's app, serving under `/roadmap`.

    It reads scores from the scoring service: the given client (the single process passes
    one that calls the scoring app in-process), or one for `ROADMAP_SCORING_URL`.
    """
    if scoring is None:
        scoring_url = settings.scoring_url or settings.services_url
        if not scoring_url:
            raise ValueError("the roadmap service on its own needs ROADMAP_SCORING_URL (or ROADMAP_SERVICES_URL)")
        scoring = ScoringClient.over_http(scoring_url)
    client = scoring
    subscriber_access = subscribers or SubscriberAccess(settings)
    return build_service_app(
        "roadmap",
        settings=settings,
        route_handlers=[*SCENARIO_ROUTES, *PLAN_ROUTES, *SUBSCRIPTION_ROUTES],
        title="Roadmap service",
        description="Scenarios, optimisation runs, frontiers, plans and approvals.",
        source=source,
        dependencies={
            "scoring": Provide(lambda: client, sync_to_thread=False),
            "subscribers": Provide(lambda: subscriber_access, sync_to_thread=False),
        },
    )
