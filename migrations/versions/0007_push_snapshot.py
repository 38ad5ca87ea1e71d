"""Integrations: a push keeps the plan it pushes, taken when it was asked for.

Revision ID: 0007
Revises: 0006
"""

from services.kit.migrate import run_sql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        -- The worker talks only to Jira: the plan, its ideas' journey context and scores and its
        -- dependencies are read from the other services with the caller's token at request time.
        ALTER TABLE integrations.pushes ADD COLUMN snapshot jsonb NOT NULL DEFAULT '{}';
        """
    )


def downgrade() -> None:
    run_sql("ALTER TABLE integrations.pushes DROP COLUMN snapshot;")
