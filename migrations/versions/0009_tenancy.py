"""Tenancy: portfolios as tenants, their members, and nothing left behind when one goes.

`access` is shared by the three services, as `queue` is: it says which portfolios exist and
who may do what in each. Every service's portfolio data references `access.portfolios`, so
deleting a portfolio there removes everything under it in every schema at once, and the
database itself refuses a deletion that would take a submitted or approved plan with it.

Revision ID: 0009
Revises: 0008
"""

from services.kit.migrate import run_sql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        CREATE SCHEMA access;

        CREATE TABLE access.portfolios (
            id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            created_at timestamptz NOT NULL DEFAULT now()
        );

        -- Every portfolio id in use becomes a tenant, including those whose scoring data was
        -- deleted before this release: their scenarios, plans and connections stay (only
        -- admins see them, as nobody is a member yet) until an admin deletes the portfolio.
        INSERT INTO access.portfolios (id, created_at) SELECT id, created_at FROM scoring.portfolios;
        INSERT INTO access.portfolios (id)
            SELECT portfolio_id FROM roadmap.scenarios
            UNION SELECT portfolio_id FROM roadmap.plans
            UNION SELECT portfolio_id FROM integrations.connections
            ON CONFLICT DO NOTHING;

        ALTER TABLE scoring.portfolios ADD CONSTRAINT portfolios_tenant
            FOREIGN KEY (id) REFERENCES access.portfolios (id) ON DELETE CASCADE;
        ALTER TABLE roadmap.scenarios ADD CONSTRAINT scenarios_tenant
            FOREIGN KEY (portfolio_id) REFERENCES access.portfolios (id) ON DELETE CASCADE;
        ALTER TABLE roadmap.plans ADD CONSTRAINT plans_tenant
            FOREIGN KEY (portfolio_id) REFERENCES access.portfolios (id) ON DELETE CASCADE;
        ALTER TABLE integrations.connections ADD CONSTRAINT connections_tenant
            FOREIGN KEY (portfolio_id) REFERENCES access.portfolios (id) ON DELETE CASCADE;

        -- A member is a subject (a token's `sub`) or an identity provider's group, with roles
        -- on one portfolio. The token's own `admin` role is global and is not stored here.
        CREATE TABLE access.members (
            portfolio_id uuid NOT NULL REFERENCES access.portfolios (id) ON DELETE CASCADE,
            kind         text NOT NULL CHECK (kind IN ('subject', 'group')),
            name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
            roles        text[] NOT NULL CHECK (
                             cardinality(roles) > 0
                             AND roles <@ ARRAY['viewer', 'stakeholder', 'programme_manager', 'leader', 'delivery']
                         ),
            added_by     text NOT NULL,
            added_at     timestamptz NOT NULL DEFAULT now(),
            updated_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (portfolio_id, kind, name)
        );
        -- "Which portfolios may this caller see": by subject, or by any of its groups.
        CREATE INDEX members_by_principal ON access.members (kind, name, portfolio_id);

        -- Four eyes: whoever submitted a plan never decides it, so the plan remembers who did.
        ALTER TABLE roadmap.plans ADD COLUMN submitted_by text;
        UPDATE roadmap.plans p SET submitted_by = (
            SELECT e.actor FROM roadmap.audit_events e
            WHERE e.plan_id = p.id AND e.action = 'submitted' ORDER BY e.id DESC LIMIT 1
        );

        -- A submitted or approved plan is a decision on record: no deletion may take it away,
        -- whatever deletes it (a portfolio's cascade included). The error lists every such
        -- plan, so the caller can be told which ones stand in the way.
        CREATE FUNCTION roadmap.keep_decided_plans() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            decided jsonb;
        BEGIN
            SELECT jsonb_agg(jsonb_build_object('id', id, 'name', name, 'status', status) ORDER BY created_at)
              INTO decided FROM gone WHERE status IN ('submitted', 'approved');
            IF decided IS NOT NULL THEN
                RAISE EXCEPTION 'submitted or approved plans cannot be deleted'
                    USING ERRCODE = 'restrict_violation', DETAIL = decided::text;
            END IF;
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER plans_keep_decided AFTER DELETE ON roadmap.plans
            REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION roadmap.keep_decided_plans();
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DROP TRIGGER plans_keep_decided ON roadmap.plans;
        DROP FUNCTION roadmap.keep_decided_plans();
        ALTER TABLE roadmap.plans DROP COLUMN submitted_by;
        ALTER TABLE integrations.connections DROP CONSTRAINT connections_tenant;
        ALTER TABLE roadmap.plans DROP CONSTRAINT plans_tenant;
        ALTER TABLE roadmap.scenarios DROP CONSTRAINT scenarios_tenant;
        ALTER TABLE scoring.portfolios DROP CONSTRAINT portfolios_tenant;
        DROP SCHEMA access CASCADE;
        """
    )
