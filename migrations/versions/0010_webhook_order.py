"""Integrations: webhook deliveries are de-duplicated per connection, and applied in event order.

Revision ID: 0010
Revises: 0009
"""

from services.kit.migrate import run_sql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        -- A delivery id is Jira's, unique per site: two connections (two sites, or a forger who
        -- knows an id) must not be able to drop each other's deliveries as repeats.
        ALTER TABLE integrations.webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey;
        ALTER TABLE integrations.webhook_deliveries ADD PRIMARY KEY (connection_id, identifier);
        -- When the event behind an issue's recorded status happened: an older event that
        -- arrives later (Jira does not deliver in order) must not move the issue back.
        ALTER TABLE integrations.issue_links ADD COLUMN status_event_at timestamptz;
        """
    )


def downgrade() -> None:
    run_sql(
        """
        ALTER TABLE integrations.issue_links DROP COLUMN status_event_at;
        -- The previous release keys deliveries by id alone: keep the first of any repeats.
        DELETE FROM integrations.webhook_deliveries AS later
        USING integrations.webhook_deliveries AS earlier
        WHERE later.identifier = earlier.identifier
          AND (later.received_at, later.connection_id) > (earlier.received_at, earlier.connection_id);
        ALTER TABLE integrations.webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey;
        ALTER TABLE integrations.webhook_deliveries ADD PRIMARY KEY (identifier);
        """
    )
