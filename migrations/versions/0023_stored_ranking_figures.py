"""Scoring: each model version's ranking figures are stored with its scores.

A ranking's first page says how many ideas the version scored and could not, and where its
quadrants split (medians over the scores and efforts). Counting them and taking two medians
over every score on each page read was most of what a page cost (issue 14); they change only
when scores do, so the writers of scores keep them here, in the same transaction, and a page
reads them with the model version.

Revision ID: 0023
Revises: 0022
"""

from services.kit.migrate import run_sql

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        CREATE TABLE scoring.score_figures (
            model_version_id uuid PRIMARY KEY REFERENCES scoring.model_versions (id) ON DELETE CASCADE,
            scored           integer NOT NULL,
            unscored         integer NOT NULL,
            -- Medians over the ideas with both a score and the effort the version's quadrants
            -- read (its cost or its effort summed over teams); NULL when no idea has both.
            value_median     double precision,
            effort_median    double precision
        );
        INSERT INTO scoring.score_figures (model_version_id, scored, unscored, value_median, effort_median)
        SELECT v.id, count(s.score), count(s.idea_id) - count(s.score),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.score) FILTER (WHERE s.score IS NOT NULL AND s.effort IS NOT NULL),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.effort) FILTER (WHERE s.score IS NOT NULL AND s.effort IS NOT NULL)
        FROM scoring.model_versions v
        LEFT JOIN LATERAL (
            SELECT s.idea_id, s.score,
                   CASE WHEN v.definition #>> '{quadrants,effortField}' = 'cost' THEN s.cost ELSE s.effort END AS effort
            FROM scoring.scores s WHERE s.model_version_id = v.id
        ) s ON true
        GROUP BY v.id;
        """
    )


def downgrade() -> None:
    run_sql("DROP TABLE scoring.score_figures;")
