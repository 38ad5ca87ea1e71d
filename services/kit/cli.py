"""Commands every deployment needs: apply migrations, mint development tokens."""

from __future__ import annotations

import sys

import click

from services.kit import migrate as migrations
from services.kit.auth import Role, mint_token
from services.kit.embedded_pg import embedded_database_url
from services.kit.settings import Settings


def database_url_for(settings: Settings) -> str:
    """The configured database, or the embedded PostgreSQL in the data folder."""
    return settings.database_url or embedded_database_url(settings.data_dir)


@click.command("migrate")
@click.option("--revision", default="head", show_default=True, help="Target revision (`base` to remove all).")
def migrate(revision: str) -> None:
    """Apply the database migrations (ROADMAP_DATABASE_URL, or the embedded PostgreSQL)."""
    settings = Settings.from_env()
    url = database_url_for(settings)
    if revision == "base":
        migrations.downgrade(url, "base")
    else:
        migrations.upgrade(url, revision)
    click.echo(f"database at revision {revision}")


@click.command("token")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice([role.value for role in Role]))
@click.option("--subject", required=True, help="Who the token is for, e.g. an email address.")
@click.option("--ttl", "ttl_seconds", type=int, default=None, help="Lifetime in seconds (default 8 hours).")
def token(roles: tuple[str, ...], subject: str, ttl_seconds: int | None) -> None:
    """Print a signed development token (embedded default only; production tokens come from the IdP)."""
    settings = Settings.from_env()
    if not settings.auth.signing_key:
        click.echo("tokens come from the identity provider when ROADMAP_JWKS_URL is set", err=True)
        sys.exit(2)
    try:
        click.echo(mint_token(settings.auth, subject=subject, roles=roles, ttl_seconds=ttl_seconds))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ttl") from None
