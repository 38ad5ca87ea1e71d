"""Apply the one alembic history to a database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from services.kit.settings import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    """An alembic configuration pointing at our history and the given database."""
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database up to `revision`. Safe to run on every start."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Take the database back to `revision` (`base` removes everything)."""
    command.downgrade(alembic_config(database_url), revision)


def run_sql(script: str) -> None:
    """Run a multi-statement SQL script inside a migration.

    SQLAlchemy's asyncpg adapter prepares every statement, and PostgreSQL refuses several
    commands in one prepared statement; asyncpg's own `execute` without arguments uses the
    simple protocol, which accepts a whole script. Runs in the migration's transaction.
    """
    from alembic import op
    from sqlalchemy.util import await_only

    driver_connection = op.get_bind().connection.driver_connection
    await_only(driver_connection.execute(script))
