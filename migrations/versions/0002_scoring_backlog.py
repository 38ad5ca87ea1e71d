"""Scoring: portfolios, ideas, versioned scoring models and their stored scores.

Revision ID: 0002
Revises: 0001
"""

from services.kit.migrate import run_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        CREATE TABLE scoring.portfolios (
            id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            name         text NOT NULL CHECK (btrim(name) <> ''),
            currency     char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
            phase_labels jsonb NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            updated_at   timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE scoring.ideas (
            id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            portfolio_id     uuid NOT NULL REFERENCES scoring.portfolios (id) ON DELETE CASCADE,
            ref              text NOT NULL,
            title            text NOT NULL CHECK (btrim(title) <> ''),
            description      text NOT NULL DEFAULT '',
            persona          text,
            journey_stage    text,
            touchpoint       text,
            channel          text,
            pain_point       text,
            department       text,
            tags             text[] NOT NULL DEFAULT '{}',
            customer_impact  double precision CHECK (customer_impact BETWEEN 0 AND 10),
            reach            double precision CHECK (reach >= 0),
            confidence       double precision CHECK (confidence BETWEEN 0 AND 1),
            effort           jsonb NOT NULL DEFAULT '{}',
            cost             double precision CHECK (cost >= 0),
            annual_benefit   double precision CHECK (annual_benefit >= 0),
            time_criticality double precision CHECK (time_criticality BETWEEN 0 AND 10),
            risk_reduction   double precision CHECK (risk_reduction BETWEEN 0 AND 10),
            phases           text[] NOT NULL CHECK (cardinality(phases) > 0),
            created_at       timestamptz NOT NULL DEFAULT now(),
            updated_at       timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT ideas_ref_unique UNIQUE (portfolio_id, ref)
        );
        CREATE INDEX ideas_portfolio_ref ON scoring.ideas (portfolio_id, ref COLLATE "C");

        CREATE TABLE scoring.models (
            id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            portfolio_id uuid NOT NULL REFERENCES scoring.portfolios (id) ON DELETE CASCADE,
            name         text NOT NULL CHECK (btrim(name) <> ''),
            created_at   timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT models_name_unique UNIQUE (portfolio_id, name)
        );

        -- A model never changes in place: every change is a new version, and scores name it.
        CREATE TABLE scoring.model_versions (
            id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            model_id    uuid NOT NULL REFERENCES scoring.models (id) ON DELETE CASCADE,
            version     integer NOT NULL CHECK (version > 0),
            definition  jsonb NOT NULL,
            created_by  text NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT model_versions_unique UNIQUE (model_id, version)
        );

        -- Scores are absolute (they depend on one idea and one model version), so they are
        -- kept up to date on every write and ranking is a sorted read.
        CREATE TABLE scoring.scores (
            model_version_id uuid NOT NULL REFERENCES scoring.model_versions (id) ON DELETE CASCADE,
            idea_id          uuid NOT NULL REFERENCES scoring.ideas (id) ON DELETE CASCADE,
            -- The idea's ref (never changes) breaks ties, so a ranking page is one index range.
            ref              text COLLATE "C" NOT NULL,
            score            double precision,
            breakdown        jsonb NOT NULL DEFAULT '[]',
            missing          text[] NOT NULL DEFAULT '{}',
            reason           text,
            PRIMARY KEY (model_version_id, idea_id),
            CHECK ((score IS NULL) = (reason IS NOT NULL))
        );
        CREATE INDEX scores_by_idea ON scoring.scores (idea_id);
        -- (-score) ascending puts the best first and unscored (NULL) last: one index range a page.
        CREATE INDEX scores_ranking ON scoring.scores (model_version_id, (-score), ref);
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DROP TABLE scoring.scores;
        DROP TABLE scoring.model_versions;
        DROP TABLE scoring.models;
        DROP TABLE scoring.ideas;
        DROP TABLE scoring.portfolios;
        """
    )
