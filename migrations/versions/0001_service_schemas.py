"""One schema per service.

Revision ID: 0001
Revises:
"""

from services.kit.migrate import run_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        CREATE SCHEMA scoring;
        CREATE SCHEMA roadmap;
        CREATE SCHEMA integrations;
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DROP SCHEMA integrations;
        DROP SCHEMA roadmap;
        DROP SCHEMA scoring;
        """
    )
