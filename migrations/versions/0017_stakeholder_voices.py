"""Scoring and roadmap: idea owners and KPIs, portfolio departments, stakeholder ratings.

An idea gets an accountable `owner` and its `kpis`; a portfolio lists its `departments`; a
rating is one subject's view of one idea on one criterion, given for a department. A score can
be marked `insufficient_input` (the stakeholder model heard too few customer-facing
departments) and carries the departments' `disagreement`. A scenario keeps each planned idea's owner, KPIs and quadrant as they were when
it was made (`idea_details`), frozen like its scores, so its runs and plans can show them.

Revision ID: 0014
Revises: 0012
"""

from services.kit.migrate import run_sql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE scoring.ideas
            ADD COLUMN owner jsonb CHECK (owner IS NULL OR jsonb_typeof(owner) = 'object'),
            ADD COLUMN kpis  jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(kpis) = 'array');
        ALTER TABLE scoring.portfolios
            ADD COLUMN departments jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(departments) = 'array');

        -- One rating per idea, criterion and subject: a subject changes its mind by replacing it.
        CREATE TABLE scoring.ratings (
            idea_id      uuid NOT NULL REFERENCES scoring.ideas (id) ON DELETE CASCADE,
            portfolio_id uuid NOT NULL REFERENCES scoring.portfolios (id) ON DELETE CASCADE,
            criterion    text NOT NULL,
            subject      text NOT NULL,
            department   text NOT NULL,
            value        double precision NOT NULL CHECK (value BETWEEN 0 AND 10),
            comment      text NOT NULL DEFAULT '',
            rated_at     timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (idea_id, criterion, subject)
        );
        CREATE INDEX ratings_by_portfolio ON scoring.ratings (portfolio_id, idea_id);

        -- Why a score stands on too little input (NULL: it does not), and how far the
        -- departments' means lie apart on the criteria the model reads (NULL: fewer than two).
        -- The idea's effort (summed over teams) and cost ride along with its score, so the
        -- quadrant medians of a model version are read from its scores alone.
        ALTER TABLE scoring.scores
            ADD COLUMN insufficient_input text,
            ADD COLUMN disagreement double precision,
            ADD COLUMN effort double precision,
            ADD COLUMN cost double precision;
        UPDATE scoring.scores s
        SET cost = i.cost, effort = (SELECT sum(e.days::float8) FROM jsonb_each_text(i.effort) AS e(team, days))
        FROM scoring.ideas i WHERE i.id = s.idea_id;
        CREATE INDEX scores_disagreement ON scoring.scores (model_version_id, disagreement DESC NULLS LAST, (-score), ref)
            WHERE disagreement IS NOT NULL;

        ALTER TABLE roadmap.scenarios ADD COLUMN idea_details jsonb NOT NULL DEFAULT '{}';
        """
    )


def downgrade() -> None:
    run_sql(
        """
        ALTER TABLE roadmap.scenarios DROP COLUMN idea_details;
        DROP INDEX scoring.scores_disagreement;
        ALTER TABLE scoring.scores
            DROP COLUMN cost, DROP COLUMN effort, DROP COLUMN disagreement, DROP COLUMN insufficient_input;
        DROP TABLE scoring.ratings;
        ALTER TABLE scoring.portfolios DROP COLUMN departments;
        ALTER TABLE scoring.ideas DROP COLUMN kpis, DROP COLUMN owner;
        """
    )
