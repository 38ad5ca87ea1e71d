"""The `roadmap` command line: one group, each service contributes its commands."""

from __future__ import annotations

import gc
import importlib
import os
import shutil
import signal
import sys
import tempfile
from typing import TYPE_CHECKING

import click

from services.kit.settings import SettingsError

if TYPE_CHECKING:
    from services.kit.app import ServiceApp
    from services.kit.composite import CompositeApp
    from services.kit.settings import Settings


class _LazyGroup(click.Group):
    """Commands from other modules are imported only when they run, and a setting the backend
    cannot use ends a command with one clear line.

    `roadmap solve` then starts without the web stack, the database driver or the job queue
    (issue 10: process start was a second of every offline solve), and `serve` without PuLP.
    """

    lazy = {
        "migrate": "services.kit.cli:migrate",
        "token": "services.kit.cli:token",
        "solve": "services.roadmap.cli:solve",
        "worker": "services.worker:worker",
    }

    def list_commands(self, ctx: click.Context | None) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context | None, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attribute = self.lazy[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None

    def main(self, args: list[str] | None = None, *more: object, **options: object) -> object:  # type: ignore[override]
        """The console script; `roadmap solve` from the command line ends its process at once
        once its result is written (services.roadmap.cli.end_process)."""
        if args is not None or sys.argv[1:2] != ["solve"]:  # called from code, or another command
            return super().main(args, *more, **options)
        try:
            return super().main(args, *more, **options)
        except SystemExit as done:
            from services.roadmap.cli import end_process

            end_process(done.code)


@click.group(cls=_LazyGroup, help="Roadmap planning backend: scoring, optimised phase roadmaps, Jira delivery.")
def main() -> None:
    """Entry point of the `roadmap` console script."""


@main.command("serve")
@click.option("--host", default=None, help="Interface to bind (default HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default PORT or 8000).")
@click.option(
    "--service",
    type=click.Choice(["all", "scoring", "roadmap", "integrations"]),
    default="all",
    show_default=True,
    help="All three in one process (with a job worker), or one service on its own.",
)
@click.option("--worker/--no-worker", default=True, help="With --service all: run a job worker in the process.")
@click.option("--seed-demo/--no-seed-demo", default=False, help="Create the demo portfolio if it is missing.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Server processes sharing the port (uvicorn workers); with --service all and --worker each runs a job worker.",
)
def serve(host: str | None, port: int | None, service: str, worker: bool, seed_demo: bool, workers: int) -> None:
    """Run the services, migrating the database first when all run in one process.

    A service on its own expects the migrations applied (`roadmap migrate`, the migration job
    of a deployment) and finds the others at ROADMAP_SCORING_URL / ROADMAP_SERVICES_URL.
    """
    import asyncio

    import msgspec

    from services.kit.cli import database_url_for
    from services.kit.migrate import upgrade
    from services.kit.observability import configure_logging
    from services.kit.settings import Settings

    settings = Settings.from_env()
    if service != "all":
        if not settings.database_url:
            raise click.UsageError("a service on its own needs ROADMAP_DATABASE_URL")
        configure_logging(settings.log_level)
        try:
            app = _app_for(service, settings, jobs=False)  # built here too, so bad settings fail before forking
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        worker_env = {_WORKER_SERVICE: service, _WORKER_JOBS: "0"}
        _run(app, host=host or settings.host, port=port or settings.port, workers=workers, worker_env=worker_env)
        return

    settings = msgspec.structs.replace(
        settings,
        database_url=database_url_for(settings),
        host=host or settings.host,
        port=port or settings.port,
    )
    configure_logging(settings.log_level)
    upgrade(settings.database_url)
    demo = asyncio.run(_seed(settings.database_url)) if seed_demo else None
    _print_welcome(settings, demo)
    app = _app_for("all", settings, jobs=worker)
    # Worker processes use the database this one resolved (maybe the embedded one it started).
    worker_env = {
        _WORKER_SERVICE: "all",
        _WORKER_JOBS: "1" if worker else "0",
        "ROADMAP_DATABASE_URL": settings.database_url,
    }
    _run(app, host=settings.host, port=settings.port, workers=workers, worker_env=worker_env)


# How `serve --workers N` tells its worker processes which app to build: uvicorn starts each
# worker as a fresh interpreter that imports `worker_app` by name and calls it with no arguments.
_WORKER_SERVICE = "ROADMAP_SERVE_SERVICE"
_WORKER_JOBS = "ROADMAP_SERVE_JOBS"


def _app_for(service: str, settings: Settings, *, jobs: bool) -> ServiceApp | CompositeApp:
    from services.single_process import create_service_app, create_single_process_app

    if service == "all":
        return create_single_process_app(settings, run_jobs=jobs)
    return create_service_app(service, settings)


WORKER_STARTUP_SECONDS = 60


def _run(app: ServiceApp | CompositeApp, *, host: str, port: int, workers: int, worker_env: dict[str, str]) -> None:
    import uvicorn

    from services.kit.observability import MULTIPROCESS_DIR_VARIABLE

    # uvicorn stops gracefully on SIGTERM, then raises the signal again with the handler it
    # found. With the default one the process would die there, skipping the atexit hook that
    # stops the embedded PostgreSQL (left running, orphaned); as an exit it runs, as after SIGINT.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # uvicorn parses HTTP with httptools and runs on uvloop whenever they are installed (they are
    # locked dependencies): about twice the requests of the pure-Python h11 parser (docs/benchmarks.md).
    if workers == 1:
        settle_heap()
        uvicorn.run(app, host=host, port=port, log_config=None)
        return
    os.environ.update(worker_env)  # worker processes inherit this process's environment
    # Each server process writes its metrics to files here and a scrape sums them all
    # (services/kit/observability.py); a fresh folder per start, so no stale counts.
    metrics_dir = os.environ[MULTIPROCESS_DIR_VARIABLE] = tempfile.mkdtemp(prefix="roadmap-metrics-")
    try:
        uvicorn.run(
            "services.cli:worker_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_config=None,
            # A server process builds the whole app before it answers the parent's health
            # pings; on a busy machine that takes longer than uvicorn's 5 s, and the parent
            # would kill and restart it over and over.
            timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def settle_heap() -> None:
    """Move everything built so far (modules, the app, its routes and schemas: about 150,000
    objects) out of the garbage collector's reach.

    Each full collection walked all of them: 80 ms during which no request moved, and a page
    allocates enough to set one off every few hundred requests, which was most of a page's p99
    (docs/benchmarks.md, issue 14). They live as long as the process, so they are frozen, once,
    before serving; what requests allocate is still collected.
    """
    gc.collect()
    gc.freeze()


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def worker_app() -> ServiceApp | CompositeApp:
    """The app of one `serve --workers N` process, built from the environment its parent set."""
    from services.kit.observability import configure_logging
    from services.kit.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    app = _app_for(os.environ[_WORKER_SERVICE], settings, jobs=os.environ.get(_WORKER_JOBS) == "1")
    settle_heap()
    return app


async def _seed(database_url: str) -> tuple[str, str]:
    """Seed the demo portfolio; return its id and the id of its first scoring model."""
    from services.kit.db import connect
    from services.scoring import score_repository
    from services.scoring.demo import seed_demo

    conn = await connect(database_url)
    try:
        portfolio_id = await seed_demo(conn)
        models = await score_repository.list_latest_model_versions(conn, portfolio_id)
        return str(portfolio_id), str(models[0].model_id)
    finally:
        await conn.close()


def _print_welcome(settings: Settings, demo: tuple[str, str] | None) -> None:
    from services.kit.auth import Role, mint_token

    base = f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        f"Roadmap backend on {base}",
        f"  OpenAPI: {base}/scoring/schema/swagger  {base}/roadmap/schema/swagger  {base}/integrations/schema/swagger",
        "",
    ]
    # Tokens that work for hours are printed only for a local try-out: the demo seeded, and a
    # key this installation made for itself. An operator's key or identity provider means a
    # real deployment, where such tokens would end up in its logs.
    if demo is None or not settings.auth.local_key:
        if settings.auth.jwks_url:
            lines.append("Tokens come from the identity provider (ROADMAP_JWKS_URL).")
        else:
            lines.append("Tokens: roadmap token --role viewer --subject you@example.com")
        if demo:
            lines.append(f"Demo portfolio: {demo[0]}")
        click.echo("\n".join(lines) + "\n")
        return
    tokens = {role.value: mint_token(settings.auth, subject=f"demo-{role.value}", roles=[role]) for role in Role}
    hours = settings.auth.token_ttl_seconds / 3600
    lines += [
        f"Development tokens (valid {hours:g} hours):",
        *[f"  {role:18} {value}" for role, value in tokens.items()],
    ]
    portfolio_id, model_id = demo
    viewer = tokens[Role.VIEWER.value]
    scoring = f"{base}/scoring/portfolios/{portfolio_id}"
    auth = f"-H 'Authorization: Bearer {viewer}'"
    lines += [
        "",
        "Try (the demo portfolio):",
        f"  curl -s {auth} '{scoring}/models/{model_id}/ranking?pageSize=5'",
        f"  curl -s {auth} '{scoring}/ideas?journeyStage=onboarding'",
        f"  curl -s {auth} '{scoring}/ideas/CJ-01/scores'",
    ]
    click.echo("\n".join(lines) + "\n")
