"""The `roadmap` command line: one group, each service contributes its commands."""

from __future__ import annotations

import asyncio

import click
import msgspec

from services.kit.auth import Role, mint_token
from services.kit.cli import database_url_for, migrate, token
from services.kit.db import connect
from services.kit.migrate import upgrade
from services.kit.observability import configure_logging
from services.kit.settings import Settings
from services.roadmap.cli import solve
from services.worker import worker


@click.group(help="Roadmap planning backend: scoring, optimised phase roadmaps, Jira delivery.")
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
def serve(host: str | None, port: int | None, service: str, worker: bool, seed_demo: bool) -> None:
    """Run the services, migrating the database first when all run in one process.

    A service on its own expects the migrations applied (`roadmap migrate`, the migration job
    of a deployment) and finds the others at ROADMAP_SCORING_URL / ROADMAP_SERVICES_URL.
    """
    import uvicorn

    from services.single_process import create_service_app, create_single_process_app

    settings = Settings.from_env()
    if service != "all":
        if not settings.database_url:
            raise click.UsageError("a service on its own needs ROADMAP_DATABASE_URL")
        configure_logging(settings.log_level)
        try:
            app = create_service_app(service, settings)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_config=None)
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
    app = create_single_process_app(settings, run_jobs=worker)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)


async def _seed(database_url: str) -> tuple[str, str]:
    """Seed the demo portfolio; return its id and the id of its first scoring model."""
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
    base = f"http://{settings.host}:{settings.port}"
    tokens = {role.value: mint_token(settings.auth, subject=f"demo-{role.value}", roles=[role]) for role in Role}
    lines = [
        "",
        f"Roadmap backend on {base}",
        f"  OpenAPI: {base}/scoring/schema/swagger  {base}/roadmap/schema/swagger  {base}/integrations/schema/swagger",
        "",
        "Development tokens (valid 8 hours):",
        *[f"  {role:18} {value}" for role, value in tokens.items()],
    ]
    if demo:
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


for command in (migrate, token, solve, worker):
    main.add_command(command)
