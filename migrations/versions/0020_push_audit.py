"""A plan's audit trail records its pushes to Jira: when each started and how it ended, with its counts.

Integrations emits `push.started` and `push.finished` through the events outbox; the roadmap's
job for each (services/roadmap/plans/push_audit_jobs.py) writes the plan's audit entry. An
entry made from an event carries an `origin` that names it once (`push:<id>:finished`), so a
job run twice, or the catch-up sweep, never writes it twice. A push also keeps the role that
allowed its start, the `actorRole` of its audit entries.

Revision ID: 0020
Revises: 0019
"""

from services.kit.migrate import run_sql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE roadmap.audit_events ADD COLUMN origin text;
        -- NULL (a transition of the plan itself) may repeat; an origin is written once.
        ALTER TABLE roadmap.audit_events ADD CONSTRAINT audit_events_origin_once UNIQUE (origin);

        -- Null for pushes started before this release.
        ALTER TABLE integrations.pushes ADD COLUMN created_by_role text;

        -- The sweep reads the outbox's push events; without this it would read every event.
        CREATE INDEX outbox_by_type ON events.outbox (event_type, created_at);
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DROP INDEX events.outbox_by_type;
        ALTER TABLE integrations.pushes DROP COLUMN created_by_role;
        -- Without their origin they could be written again after an upgrade: the sweep does that instead.
        DELETE FROM roadmap.audit_events WHERE origin IS NOT NULL;
        ALTER TABLE roadmap.audit_events DROP COLUMN origin;
        """
    )
