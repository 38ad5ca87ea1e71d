"""The embedded default: all three services in one process, under their path prefixes."""

from __future__ import annotations

import asyncio

from services.integrations.app import create_app as create_integrations_app
from services.integrations.plan_source import PlanSource
from services.kit.app import ServiceApp
from services.kit.clock import Clock, system_clock
from services.kit.composite import CompositeApp, LaterApp
from services.kit.db import ConnectionSource
from services.kit.jobs import run_worker
from services.kit.settings import Settings
from services.roadmap.app import create_app as create_roadmap_app
from services.roadmap.scoring_client import ScoringClient
from services.scoring.app import create_app as create_scoring_app
from services.scoring.integrations_client import IntegrationsClient
from services.worker import job_handlers, job_schedules, periodic_work


def create_single_process_app(
    settings: Settings, *, source: ConnectionSource | None = None, run_jobs: bool = True, clock: Clock = system_clock
) -> CompositeApp:
    """Scoring, roadmap and integrations behind one ASGI callable.

    With `run_jobs` the app's lifespan also runs a job worker, so the embedded default
    needs no second process; more workers (`roadmap worker`) can still join it.
    """

    async def work(stop: asyncio.Event) -> None:
        # The same periodic work as a `roadmap worker` process (the delivery refresh), when set.
        await asyncio.gather(
            run_worker(settings, job_handlers(), stop=stop, schedules=job_schedules()),
            *(periodic(settings, stop) for periodic in periodic_work(settings)),
        )

    # Scoring asks integrations whether ideas are delivered, and integrations reads plans and
    # scores from the other two: in-process here, each through the client it uses when apart.
    integrations_later = LaterApp()
    scoring = create_scoring_app(
        settings, source=source, clock=clock, integrations=IntegrationsClient.in_process(integrations_later)
    )
    roadmap = create_roadmap_app(settings, source=source, scoring=ScoringClient.in_process(scoring))
    plans = PlanSource.in_process(CompositeApp([scoring, roadmap]))
    integrations = create_integrations_app(settings, source=source, plans=plans, clock=clock)
    integrations_later.bind(integrations)
    return CompositeApp([scoring, roadmap, integrations], background=[work] if run_jobs else [])


def create_service_app(name: str, settings: Settings) -> ServiceApp:
    """One service on its own, as a deployment runs it: its own pool, the others over HTTP."""
    factories = {"scoring": create_scoring_app, "roadmap": create_roadmap_app, "integrations": create_integrations_app}
    return factories[name](settings)
