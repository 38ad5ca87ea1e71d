"""Roadmap: a scenario keeps its ideas' effort for every team, not only the teams it plans.

A scenario's document holds effort only for the teams the scenario constrains. To tell which
teams a scenario leaves unconstrained, and to constrain one later, the scenario keeps what the
backlog said for every team, as `{idea: {team: days}}`.

Revision ID: 0011
Revises: 0010
"""

from services.kit.migrate import run_sql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE roadmap.scenarios ADD COLUMN backlog_effort jsonb NOT NULL DEFAULT '{}';
        -- What earlier scenarios kept is all that is known of them: the document's effort.
        UPDATE roadmap.scenarios s SET backlog_effort = coalesce((
            SELECT jsonb_object_agg(idea ->> 'id', idea -> 'effort')
            FROM jsonb_array_elements(s.document -> 'ideas') AS idea
            WHERE idea -> 'effort' IS NOT NULL AND idea -> 'effort' <> '{}'::jsonb
        ), '{}'::jsonb);
        """
    )


def downgrade() -> None:
    run_sql("ALTER TABLE roadmap.scenarios DROP COLUMN backlog_effort;")
