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
        -- A push that finds Jira unavailable is `waiting` until `waiting_until`, when `job_id`, the
        -- job enqueued with that record, carries it on; only that job may take the push then.
        -- `waiting_since` is when the outage began (the push gives up once it has lasted too
        -- long), `outage_waits` how often the push has waited in it (each wait is longer).
        ALTER TABLE integrations.pushes DROP CONSTRAINT pushes_status_check;
        ALTER TABLE integrations.pushes ADD CONSTRAINT pushes_status_check
            CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed'));
        ALTER TABLE integrations.pushes
            ADD COLUMN waiting_since timestamptz,
            ADD COLUMN waiting_until timestamptz,
            ADD COLUMN outage_waits  integer NOT NULL DEFAULT 0,
            ADD COLUMN last_error    text,
            ADD COLUMN job_id        bigint;
        """
    )


def downgrade() -> None:
    run_sql(
        """
        -- The previous release takes a queued push up again when its job (job_id) comes.
        UPDATE integrations.pushes SET status = 'queued' WHERE status = 'waiting';
        ALTER TABLE integrations.pushes
            DROP COLUMN job_id,
            DROP COLUMN last_error,
            DROP COLUMN outage_waits,
            DROP COLUMN waiting_until,
            DROP COLUMN waiting_since;
        ALTER TABLE integrations.pushes DROP CONSTRAINT pushes_status_check;
        ALTER TABLE integrations.pushes ADD CONSTRAINT pushes_status_check
            CHECK (status IN ('queued', 'running', 'succeeded', 'failed'));
        """
    )
