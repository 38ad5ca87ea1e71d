"""Scoring: a living backlog. Estimates have a date and an author, ideas a history, portfolios
a review cadence; the journey map records when its personas, stages and touchpoints were last
reviewed; delivered ideas record their actuals and KPI measurements.

Revision ID: 0016
Revises: 0015
"""

from services.kit.migrate import run_sql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE scoring.portfolios
            ADD COLUMN review_every_days integer NOT NULL DEFAULT 90 CHECK (review_every_days BETWEEN 1 AND 3650);

        -- Ideas from before this release count as estimated when they were last changed.
        ALTER TABLE scoring.ideas
            ADD COLUMN estimated_at timestamptz,
            ADD COLUMN estimated_by text,
            ADD COLUMN stale_since  timestamptz;
        UPDATE scoring.ideas SET estimated_at = updated_at;
        ALTER TABLE scoring.ideas ALTER COLUMN estimated_at SET NOT NULL, ALTER COLUMN estimated_at SET DEFAULT now();
        CREATE INDEX ideas_by_estimate_age ON scoring.ideas (portfolio_id, estimated_at);

        -- Who changed what on an idea, when, from what to what: one row per write that changed something.
        CREATE TABLE scoring.idea_history (
            id      bigserial PRIMARY KEY,
            idea_id uuid NOT NULL REFERENCES scoring.ideas (id) ON DELETE CASCADE,
            at      timestamptz NOT NULL,
            by      text NOT NULL,
            action  text NOT NULL CHECK (action IN ('created', 'updated')),
            changes jsonb NOT NULL
        );
        CREATE INDEX idea_history_by_idea ON scoring.idea_history (idea_id, id);

        -- The journey map's values are those the ideas carry; a review is recorded per value.
        CREATE TABLE scoring.journey_reviews (
            portfolio_id uuid NOT NULL REFERENCES scoring.portfolios (id) ON DELETE CASCADE,
            facet        text NOT NULL CHECK (facet IN ('persona', 'journey_stage', 'touchpoint')),
            value        text NOT NULL,
            reviewed_at  timestamptz NOT NULL,
            reviewed_by  text NOT NULL,
            PRIMARY KEY (portfolio_id, facet, value)
        );

        -- What a delivered idea really cost: money, effort per team, and the time Jira tracked.
        CREATE TABLE scoring.idea_actuals (
            idea_id       uuid PRIMARY KEY REFERENCES scoring.ideas (id) ON DELETE CASCADE,
            cost          double precision CHECK (cost >= 0),
            effort        jsonb NOT NULL DEFAULT '{}',
            tracked_hours double precision CHECK (tracked_hours >= 0),
            recorded_at   timestamptz NOT NULL,
            recorded_by   text NOT NULL
        );

        -- Measurements of an idea's KPIs, keyed by the KPI's key; a target, when given, says
        -- whether the measurement reached it (higher or lower being better).
        CREATE TABLE scoring.kpi_measurements (
            id               bigserial PRIMARY KEY,
            idea_id          uuid NOT NULL REFERENCES scoring.ideas (id) ON DELETE CASCADE,
            kpi_key          text NOT NULL,
            value            double precision NOT NULL,
            measured_on      date NOT NULL,
            target           double precision,
            higher_is_better boolean NOT NULL DEFAULT true,
            recorded_at      timestamptz NOT NULL,
            recorded_by      text NOT NULL
        );
        CREATE INDEX kpi_measurements_by_idea ON scoring.kpi_measurements (idea_id, kpi_key, measured_on);
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DROP TABLE scoring.kpi_measurements;
        DROP TABLE scoring.idea_actuals;
        DROP TABLE scoring.journey_reviews;
        DROP TABLE scoring.idea_history;
        DROP INDEX scoring.ideas_by_estimate_age;
        ALTER TABLE scoring.ideas DROP COLUMN stale_since, DROP COLUMN estimated_by, DROP COLUMN estimated_at;
        ALTER TABLE scoring.portfolios DROP COLUMN review_every_days;
        """
    )
