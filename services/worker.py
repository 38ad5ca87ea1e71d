"""The job worker process: every service's job handlers, and the `roadmap worker` command."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from types import ModuleType

import click
import msgspec

from services.integrations import delivery, jobs as integrations_jobs
from services.kit.cli import database_url_for
from services.kit.events import delivery as event_jobs, retention as event_retention
from services.kit.jobs import MIN_CONCURRENCY, JobHandler, JobQueueMissing, run_worker
from services.kit.observability import configure_logging
from services.kit.settings import Settings
from services.roadmap.plans import push_audit_jobs
from services.roadmap.scenarios import jobs as roadmap_jobs
from services.scoring import jobs as scoring_jobs

# Each service with long work has a `jobs` module whose `HANDLERS` maps its entrypoints
# (named `<service>.<job>`, e.g. `roadmap.optimise`) to handlers; list that module here.
# Events are the kit's (`events.deliver`, and `events.prune`, their retention): any service emits them.
# A module may also have `SCHEDULES`, entrypoint -> cron expression, for periodic jobs.
SERVICE_JOB_MODULES: tuple[ModuleType, ...] = (
    scoring_jobs,
    roadmap_jobs,
    push_audit_jobs,
    integrations_jobs,
    event_jobs,
    event_retention,
)


def job_handlers() -> dict[str, JobHandler]:
    """Every service's job handlers by entrypoint; an entrypoint claimed twice is an error."""
    handlers: dict[str, JobHandler] = {}
    for module in SERVICE_JOB_MODULES:
        for entrypoint, handler in module.HANDLERS.items():
            if entrypoint in handlers:
                raise RuntimeError(f"job entrypoint {entrypoint!r} is registered twice")
            handlers[entrypoint] = handler
    return handlers


Periodic = Callable[[Settings, asyncio.Event], Awaitable[None]]


def periodic_work(settings: Settings) -> list[Periodic]:
    """Work a worker repeats on a timer beside its jobs, each off unless its setting is given:
    the delivery refresh (ROADMAP_DELIVERY_REFRESH_SECONDS)."""
    work: list[Periodic] = []
    interval = settings.delivery_refresh_seconds
    if interval is not None:
        work.append(lambda settings, stop: delivery.refresh_periodically(settings, interval, stop))
    return work


def job_schedules() -> dict[str, str]:
    """Every service's periodic jobs: entrypoint -> cron expression."""
    return {
        entrypoint: cron
        for module in SERVICE_JOB_MODULES
        for entrypoint, cron in getattr(module, "SCHEDULES", {}).items()
    }


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(min=MIN_CONCURRENCY),
    default=MIN_CONCURRENCY,
    show_default=True,
    help="Jobs this process runs at once.",
)
def worker(concurrency: int) -> None:
    """Run queued jobs until SIGTERM or SIGINT (apply migrations first: `roadmap migrate`)."""
    settings = Settings.from_env()  # a bad value is a SettingsError, which the CLI shows as an error
    settings = msgspec.structs.replace(settings, database_url=database_url_for(settings))
    configure_logging(settings.log_level)
    periodic = periodic_work(settings)
    try:
        asyncio.run(_work(settings, concurrency, periodic))
    except JobQueueMissing as exc:
        raise click.ClickException(str(exc)) from None


async def _work(settings: Settings, concurrency: int, periodic: list[Periodic]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await asyncio.gather(
        run_worker(settings, job_handlers(), concurrency=concurrency, stop=stop, schedules=job_schedules()),
        *(work(settings, stop) for work in periodic),
    )
