"""Roadmap: a run's summary is stored with its result, so polling a run reads a few bytes.

A run being polled is a large share of the reads (issue 14). Its answer carries a summary of the
result (status, objective, bound, gap, penalty), which the poll took from the result document
with six `->` lookups, each decompressing the whole jsonb document (hundreds of kilobytes for
a backlog of thousands of ideas), on every poll. It is now a column, set by a trigger whenever
a result is written, by whatever writer (a generated column cannot call jsonb_build_object,
which is not immutable).

Revision ID: 0026
Revises: 0025
"""

from services.kit.migrate import run_sql

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        ALTER TABLE roadmap.runs ADD COLUMN summary jsonb;

        CREATE FUNCTION roadmap.summarise_run() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.summary := CASE WHEN NEW.kind = 'optimise' AND NEW.result IS NOT NULL THEN jsonb_build_object(
                'status', NEW.result -> 'status', 'objective', NEW.result -> 'objective',
                'bestBound', NEW.result -> 'bestBound', 'gap', NEW.result -> 'gap',
                'objectiveWithPenalty', NEW.result -> 'objectiveWithPenalty',
                'penalty', NEW.result -> 'baselinePenalty') END;
            RETURN NEW;
        END $$;
        CREATE TRIGGER runs_summarised
            BEFORE INSERT OR UPDATE OF kind, result, summary ON roadmap.runs
            FOR EACH ROW EXECUTE FUNCTION roadmap.summarise_run();

        UPDATE roadmap.runs SET result = result WHERE result IS NOT NULL;
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DROP TRIGGER runs_summarised ON roadmap.runs;
        DROP FUNCTION roadmap.summarise_run();
        ALTER TABLE roadmap.runs DROP COLUMN summary;
        """
    )
