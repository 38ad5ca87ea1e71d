"""Events: subscriptions to a portfolio's events, the events themselves, and their deliveries.

`events` is shared by the services, as `access` and `queue` are: the roadmap emits plan events,
scoring the staleness of ideas, integrations the end of a push. An event is written to the
outbox in the transaction of what it tells about, with one delivery per subscriber; a job per
delivery sends it (at least once, with backoff) and records each attempt there.

Revision ID: 0015
Revises: 0012
"""

from services.kit.migrate import run_sql

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        CREATE SCHEMA events;

        CREATE TABLE events.subscriptions (
            id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            portfolio_id uuid NOT NULL REFERENCES access.portfolios (id) ON DELETE CASCADE,
            url          text NOT NULL,
            event_types  text[] NOT NULL CHECK (cardinality(event_types) > 0),
            -- A reference into the operator's secrets space (services/kit/secrets.py), never the secret.
            secret_ref   text NOT NULL,
            created_by   text NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX subscriptions_by_portfolio ON events.subscriptions (portfolio_id);

        -- The CloudEvents envelope as it is sent, fixed when the event happened: every delivery
        -- and every retry sends the same bytes' worth of content, with the same id.
        CREATE TABLE events.outbox (
            id           uuid PRIMARY KEY,
            portfolio_id uuid NOT NULL REFERENCES access.portfolios (id) ON DELETE CASCADE,
            event_type   text NOT NULL,
            envelope     jsonb NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE events.deliveries (
            id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            subscription_id uuid NOT NULL REFERENCES events.subscriptions (id) ON DELETE CASCADE,
            event_id        uuid NOT NULL REFERENCES events.outbox (id) ON DELETE CASCADE,
            status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            last_attempt_at timestamptz,
            -- What the last attempt came to, summarised ("HTTP 503", "connection refused"):
            -- a subscriber's answer is never stored or echoed.
            last_outcome    text,
            next_attempt_at timestamptz,
            delivered_at    timestamptz,
            created_at      timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT deliveries_once UNIQUE (subscription_id, event_id)
        );
        CREATE INDEX deliveries_by_subscription ON events.deliveries (subscription_id, created_at DESC);
        CREATE INDEX deliveries_by_event ON events.deliveries (event_id);
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DROP TABLE events.deliveries;
        DROP TABLE events.outbox;
        DROP TABLE events.subscriptions;
        DROP SCHEMA events;
        """
    )
