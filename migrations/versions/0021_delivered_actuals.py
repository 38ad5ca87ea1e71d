"""Scoring: actuals and KPI measurements say how the idea's delivery was known (issue 13); events:
the outbox's age is indexed for its retention job.

`delivered_via` is `jira` when the integrations service said every planned Jira issue of the idea
was done when the figures were recorded (`jira_issues` names them), `manual` when the idea was
never tracked in Jira (a team without Jira). Figures recorded before this revision were not
checked against Jira: they are `manual`.

Revision ID: 0021
Revises: 0020
"""

from services.kit.migrate import run_sql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE scoring.idea_actuals
            ADD COLUMN delivered_via text NOT NULL DEFAULT 'manual' CHECK (delivered_via IN ('jira', 'manual')),
            ADD COLUMN jira_issues text[] NOT NULL DEFAULT '{}';
        ALTER TABLE scoring.kpi_measurements
            ADD COLUMN delivered_via text NOT NULL DEFAULT 'manual' CHECK (delivered_via IN ('jira', 'manual')),
            ADD COLUMN jira_issues text[] NOT NULL DEFAULT '{}';

        -- The retention job (services/kit/events/retention.py) walks the oldest events first.
        CREATE INDEX outbox_by_age ON events.outbox (created_at);
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DROP INDEX events.outbox_by_age;
        ALTER TABLE scoring.kpi_measurements DROP COLUMN jira_issues, DROP COLUMN delivered_via;
        ALTER TABLE scoring.idea_actuals DROP COLUMN jira_issues, DROP COLUMN delivered_via;
        """
    )
