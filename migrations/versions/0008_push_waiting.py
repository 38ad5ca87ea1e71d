"""Integrations: a push waits out a Jira outage instead of failing.

Revision ID: 0008
Revises: 0007
"""

from services.kit.migrate import run_sql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        -- A push that finds Jira unavailable is `waiting`: its job is back in the queue until
        -- `waiting_until`. `waiting_since` is when the outage began (the push gives up once it
        -- has lasted too long), `outage_waits` how often it has waited in it (the wait grows).
        ALTER TABLE integrations.pushes DROP CONSTRAINT pushes_status_check;
        ALTER TABLE integrations.pushes ADD CONSTRAINT pushes_status_check
            CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed'));
        ALTER TABLE integrations.pushes
            ADD COLUMN waiting_since timestamptz,
            ADD COLUMN waiting_until timestamptz,
            ADD COLUMN outage_waits  integer NOT NULL DEFAULT 0,
            ADD COLUMN last_error    text;
        """
    )


def downgrade() -> None:
    run_sql(
        """
        -- The previous release takes a queued push up again; its job is still in the queue.
        UPDATE integrations.pushes SET status = 'queued' WHERE status = 'waiting';
        ALTER TABLE integrations.pushes
            DROP COLUMN last_error,
            DROP COLUMN outage_waits,
            DROP COLUMN waiting_until,
            DROP COLUMN waiting_since;
        ALTER TABLE integrations.pushes DROP CONSTRAINT pushes_status_check;
        ALTER TABLE integrations.pushes ADD CONSTRAINT pushes_status_check
            CHECK (status IN ('queued', 'running', 'succeeded', 'failed'));
        """
    )
