"""Integrations: a push records the owners it could not make assignee of their ideas' issues.

Revision ID: 0018
Revises: 0017
"""

from services.kit.migrate import run_sql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE integrations.pushes
            ADD COLUMN unmapped_owners jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(unmapped_owners) = 'array');
        """
    )


def downgrade() -> None:
    run_sql("ALTER TABLE integrations.pushes DROP COLUMN unmapped_owners;")
