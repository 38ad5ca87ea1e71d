"""The integrations service: Jira connections, pushes and delivery status."""

from __future__ import annotations

from litestar.di import Provide

from services.integrations.api import INTEGRATION_ROUTES
from services.integrations.jira_access import JiraAccess
from services.integrations.plan_source import PlanSource
from services.kit.app import ServiceApp, build_service_app
from services.kit.clock import Clock, system_clock
from services.kit.db import ConnectionSource
from services.kit.settings import Settings


def create_app(
    settings: Settings,
    *,
    source: ConnectionSource | None = None,
    plans: PlanSource | None = None,
    jira_access: JiraAccess | None = None,
    clock: Clock = system_clock,
) -> ServiceApp:
    """The integrations service's app, serving under `/integrations`.

    It reads approved plans from the roadmap and scoring services: through the given source
    (the single process passes one that calls them in-process), or at ROADMAP_ROADMAP_URL and
    ROADMAP_SCORING_URL (or both behind one ingress at ROADMAP_SERVICES_URL). `clock` is its
    "now" (what is late in delivery); tests set it.
    """
    if plans is None:
        roadmap_url = settings.roadmap_url or settings.services_url
        scoring_url = settings.scoring_url or settings.services_url
        if not (roadmap_url and scoring_url):
            raise ValueError(
                "the integrations service on its own needs ROADMAP_ROADMAP_URL and ROADMAP_SCORING_URL "
                "(or ROADMAP_SERVICES_URL)"
            )
        plans = PlanSource.over_http(roadmap_url=roadmap_url, scoring_url=scoring_url)
    plan_source = plans
    access = jira_access or JiraAccess(settings)
    return build_service_app(
        "integrations",
        settings=settings,
        route_handlers=INTEGRATION_ROUTES,
        title="Integrations service",
        description="Jira connections, pushes of approved plans, and delivery status.",
        source=source,
        dependencies={
            "plans": Provide(lambda: plan_source, sync_to_thread=False),
            "jira_access": Provide(lambda: access, sync_to_thread=False),
            "clock": Provide(lambda: clock, sync_to_thread=False),
        },
    )
