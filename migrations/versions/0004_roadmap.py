"""Roadmap: scenarios on frozen scores, optimisation runs, plans, phase decisions, audit trail.

Revision ID: 0004
Revises: 0003
"""

from services.kit.migrate import run_sql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        -- A scenario is the optimiser's input: settings plus the ideas and values frozen from
        -- a scoring model version when it was made, so a run can be repeated exactly.
        CREATE TABLE roadmap.scenarios (
            id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            portfolio_id     uuid NOT NULL,
            name             text NOT NULL CHECK (btrim(name) <> ''),
            source           jsonb NOT NULL,
            document         jsonb NOT NULL,
            skipped          jsonb NOT NULL DEFAULT '[]',
            fingerprint      text NOT NULL,
            revision         integer NOT NULL DEFAULT 1,
            created_by       text NOT NULL,
            created_at       timestamptz NOT NULL DEFAULT now(),
            updated_at       timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX scenarios_by_portfolio ON roadmap.scenarios (portfolio_id, created_at);

        CREATE TABLE roadmap.runs (
            id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            scenario_id       uuid NOT NULL REFERENCES roadmap.scenarios (id) ON DELETE CASCADE,
            kind              text NOT NULL DEFAULT 'optimise' CHECK (kind IN ('optimise', 'frontier')),
            status            text NOT NULL DEFAULT 'queued'
                              CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
            -- The document as it was when the run was asked for, and its fingerprint.
            document          jsonb NOT NULL,
            input_fingerprint text NOT NULL,
            options           jsonb NOT NULL DEFAULT '{}',
            progress          jsonb NOT NULL DEFAULT '{}',
            result            jsonb,
            error             text,
            solver_name       text,
            solver_version    text,
            attempts          integer NOT NULL DEFAULT 0,
            cancel_requested  boolean NOT NULL DEFAULT false,
            created_by        text NOT NULL,
            created_at        timestamptz NOT NULL DEFAULT now(),
            started_at        timestamptz,
            finished_at       timestamptz
        );
        CREATE INDEX runs_by_scenario ON roadmap.runs (scenario_id, created_at);

        CREATE TABLE roadmap.plans (
            id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            run_id         uuid NOT NULL REFERENCES roadmap.runs (id),
            scenario_id    uuid NOT NULL REFERENCES roadmap.scenarios (id),
            portfolio_id   uuid NOT NULL,
            name           text NOT NULL CHECK (btrim(name) <> ''),
            status         text NOT NULL DEFAULT 'draft'
                           CHECK (status IN ('draft', 'submitted', 'approved', 'rejected', 'superseded')),
            created_by     text NOT NULL,
            created_at     timestamptz NOT NULL DEFAULT now(),
            updated_at     timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX plans_by_portfolio ON roadmap.plans (portfolio_id, created_at);
        -- At most one approved plan per portfolio: approving another supersedes it.
        CREATE UNIQUE INDEX plans_one_approved ON roadmap.plans (portfolio_id) WHERE status = 'approved';

        CREATE TABLE roadmap.phase_decisions (
            plan_id     uuid NOT NULL REFERENCES roadmap.plans (id) ON DELETE CASCADE,
            phase       text NOT NULL,
            decision    text NOT NULL CHECK (decision IN ('approved', 'rejected')),
            comment     text NOT NULL DEFAULT '',
            decided_by  text NOT NULL,
            decided_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (plan_id, phase)
        );

        CREATE TABLE roadmap.audit_events (
            id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            plan_id           uuid NOT NULL REFERENCES roadmap.plans (id) ON DELETE CASCADE,
            action            text NOT NULL,
            actor             text NOT NULL,
            actor_role        text NOT NULL,
            at                timestamptz NOT NULL DEFAULT clock_timestamp(),
            input_fingerprint text NOT NULL,
            solver            text,
            detail            jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_by_plan ON roadmap.audit_events (plan_id, id);
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DROP TABLE roadmap.audit_events;
        DROP TABLE roadmap.phase_decisions;
        DROP TABLE roadmap.plans;
        DROP TABLE roadmap.runs;
        DROP TABLE roadmap.scenarios;
        """
    )
