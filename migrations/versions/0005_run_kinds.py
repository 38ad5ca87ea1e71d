"""Roadmap: runs that explain a finished run (budget sensitivity, alternative plans).

Revision ID: 0005
Revises: 0004
"""

from services.kit.migrate import run_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE roadmap.runs DROP CONSTRAINT runs_kind_check;
        ALTER TABLE roadmap.runs ADD CONSTRAINT runs_kind_check
            CHECK (kind IN ('optimise', 'frontier', 'sensitivity', 'alternatives'));
        -- The run a sensitivity or alternatives run explains.
        ALTER TABLE roadmap.runs ADD COLUMN base_run_id uuid REFERENCES roadmap.runs (id);
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DELETE FROM roadmap.runs WHERE kind IN ('sensitivity', 'alternatives');
        ALTER TABLE roadmap.runs DROP COLUMN base_run_id;
        ALTER TABLE roadmap.runs DROP CONSTRAINT runs_kind_check;
        ALTER TABLE roadmap.runs ADD CONSTRAINT runs_kind_check CHECK (kind IN ('optimise', 'frontier'));
        """
    )
