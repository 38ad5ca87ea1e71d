"""Roadmap: plans are negotiated phase by phase.

A leader who rejects a phase asks for changes to it (`changes_requested`) instead of ending the
plan; a leader may approve a phase with a lower budget (`approved_budget`); the programme
manager answers with a revision: another run of the scenario promoted onto the same plan
(`revision`, and `revised_by`, who never decide it). A plan can be withdrawn.

Revision ID: 0012
Revises: 0011
"""

from services.kit.migrate import run_sql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE roadmap.phase_decisions DROP CONSTRAINT phase_decisions_decision_check;
        -- `rejected` stays for the decisions of plans rejected before this release.
        ALTER TABLE roadmap.phase_decisions ADD CONSTRAINT phase_decisions_decision_check
            CHECK (decision IN ('approved', 'changes_requested', 'rejected'));
        ALTER TABLE roadmap.phase_decisions ADD COLUMN approved_budget double precision
            CHECK (approved_budget IS NULL OR approved_budget >= 0);

        ALTER TABLE roadmap.plans DROP CONSTRAINT plans_status_check;
        ALTER TABLE roadmap.plans ADD CONSTRAINT plans_status_check
            CHECK (status IN ('draft', 'submitted', 'approved', 'rejected', 'superseded', 'withdrawn'));
        ALTER TABLE roadmap.plans
            ADD COLUMN revision   integer NOT NULL DEFAULT 1,
            ADD COLUMN revised_by text[] NOT NULL DEFAULT '{}';
        """
    )


def downgrade() -> None:
    run_sql(
        """
        ALTER TABLE roadmap.plans DROP COLUMN revised_by, DROP COLUMN revision;
        UPDATE roadmap.plans SET status = 'rejected' WHERE status = 'withdrawn';
        ALTER TABLE roadmap.plans DROP CONSTRAINT plans_status_check;
        ALTER TABLE roadmap.plans ADD CONSTRAINT plans_status_check
            CHECK (status IN ('draft', 'submitted', 'approved', 'rejected', 'superseded'));
        -- The earlier release knows only final decisions: a request for changes was a rejection.
        UPDATE roadmap.phase_decisions SET decision = 'rejected' WHERE decision = 'changes_requested';
        UPDATE roadmap.plans p SET status = 'rejected' WHERE status = 'submitted'
            AND EXISTS (SELECT 1 FROM roadmap.phase_decisions d WHERE d.plan_id = p.id AND d.decision = 'rejected');
        ALTER TABLE roadmap.phase_decisions DROP COLUMN approved_budget;
        ALTER TABLE roadmap.phase_decisions DROP CONSTRAINT phase_decisions_decision_check;
        ALTER TABLE roadmap.phase_decisions ADD CONSTRAINT phase_decisions_decision_check
            CHECK (decision IN ('approved', 'rejected'));
        """
    )
