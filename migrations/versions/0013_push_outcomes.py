"""Integrations: a push may end `partial` or `cancelled`, and be asked to stop; delivery is refreshed.

Revision ID: 0013
Revises: 0012
"""

from services.kit.migrate import run_sql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        -- `partial`: the push ran to its end but Jira refused some ideas (each named in its
        -- record) or links still wait for their ends; `cancelled`: someone stopped it, or its
        -- plan was superseded. A running push sees `cancel_requested_at` before its next write.
        ALTER TABLE integrations.pushes DROP CONSTRAINT pushes_status_check;
        ALTER TABLE integrations.pushes ADD CONSTRAINT pushes_status_check
            CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'partial', 'failed', 'cancelled'));
        ALTER TABLE integrations.pushes
            ADD COLUMN cancel_requested_by text,
            ADD COLUMN cancel_requested_at timestamptz;
        CREATE INDEX pushes_by_connection ON integrations.pushes (connection_id, created_at);

        -- When the delivery statuses were last read from Jira by the periodic refresh
        -- (ROADMAP_DELIVERY_REFRESH_SECONDS): of several workers, one a period does it.
        CREATE TABLE integrations.delivery_refresh (
            singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            refreshed_at timestamptz NOT NULL
        );
        """
    )


def downgrade() -> None:
    run_sql(
        """
        -- The previous release knows neither state: a partial push did finish, a cancelled one failed.
        UPDATE integrations.pushes SET status = 'succeeded' WHERE status = 'partial';
        UPDATE integrations.pushes SET status = 'failed' WHERE status = 'cancelled';
        DROP TABLE integrations.delivery_refresh;
        DROP INDEX integrations.pushes_by_connection;
        ALTER TABLE integrations.pushes DROP COLUMN cancel_requested_at, DROP COLUMN cancel_requested_by;
        ALTER TABLE integrations.pushes DROP CONSTRAINT pushes_status_check;
        ALTER TABLE integrations.pushes ADD CONSTRAINT pushes_status_check
            CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed'));
        """
    )
