"""Integrations: Jira connections, the idea-to-issue link table, pushes and webhook deliveries.

Revision ID: 0006
Revises: 0005
"""

from services.kit.migrate import run_sql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        -- Secrets are never stored: a connection names where its API token and webhook secret
        -- are read from (an environment variable or a file), and only that name is kept.
        CREATE TABLE integrations.connections (
            id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            portfolio_id       uuid NOT NULL,
            site_url           text NOT NULL,
            project_key        text NOT NULL,
            account_email      text NOT NULL,
            api_token_ref      text NOT NULL,
            webhook_secret_ref text,
            mapping            jsonb NOT NULL,
            created_by         text NOT NULL,
            created_at         timestamptz NOT NULL DEFAULT now(),
            updated_at         timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT connections_project_unique UNIQUE (portfolio_id, site_url, project_key)
        );

        -- Every Jira issue a push created, recorded as soon as Jira answers: an idea (or a phase's
        -- epic) maps to at most one issue of a connection, ever.
        CREATE TABLE integrations.issue_links (
            connection_id      uuid NOT NULL REFERENCES integrations.connections (id) ON DELETE CASCADE,
            kind               text NOT NULL CHECK (kind IN ('epic', 'idea')),
            item               text NOT NULL,
            issue_key          text NOT NULL,
            issue_id           text NOT NULL,
            label              text NOT NULL,
            phase              text,
            cost               double precision,
            fields_fingerprint text NOT NULL DEFAULT '',
            planned            boolean NOT NULL DEFAULT true,
            plan_id            uuid,
            status_category    text NOT NULL DEFAULT 'new',
            status_name        text,
            updated_at         timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (connection_id, kind, item),
            CONSTRAINT issue_links_key_unique UNIQUE (connection_id, issue_key)
        );

        CREATE TABLE integrations.blocks_links (
            connection_id uuid NOT NULL REFERENCES integrations.connections (id) ON DELETE CASCADE,
            blocker       text NOT NULL,
            blocked       text NOT NULL,
            PRIMARY KEY (connection_id, blocker, blocked)
        );

        CREATE TABLE integrations.pushes (
            id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            connection_id uuid NOT NULL REFERENCES integrations.connections (id) ON DELETE CASCADE,
            plan_id       uuid NOT NULL,
            status        text NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
            progress      jsonb NOT NULL DEFAULT '{}',
            operations    jsonb NOT NULL DEFAULT '[]',
            errors        jsonb NOT NULL DEFAULT '[]',
            attempts      integer NOT NULL DEFAULT 0,
            created_by    text NOT NULL,
            created_at    timestamptz NOT NULL DEFAULT now(),
            finished_at   timestamptz
        );
        CREATE INDEX pushes_by_plan ON integrations.pushes (plan_id, created_at);

        -- Jira may deliver a webhook more than once; its identifier is kept to drop repeats.
        CREATE TABLE integrations.webhook_deliveries (
            identifier    text PRIMARY KEY,
            connection_id uuid NOT NULL REFERENCES integrations.connections (id) ON DELETE CASCADE,
            received_at   timestamptz NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DROP TABLE integrations.webhook_deliveries;
        DROP TABLE integrations.pushes;
        DROP TABLE integrations.blocks_links;
        DROP TABLE integrations.issue_links;
        DROP TABLE integrations.connections;
        """
    )
