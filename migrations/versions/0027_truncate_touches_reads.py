"""Scoring: emptying a table a hot read shows (TRUNCATE) moves every portfolio's read generation.

Migration 0024's triggers see inserts, updates and deletes, row by row through transition
tables, and so know which portfolios changed. TRUNCATE has no rows to look at: a table emptied
by hand would have left pages kept by the read cache (services/kit/read_cache.py) that still
showed what was gone. A TRUNCATE of any watched table now touches every portfolio, so each
generation moves when the transaction commits, as for any other change.

Revision ID: 0027
Revises: 0026
"""

from services.kit.migrate import run_sql

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

_WATCHED = ("portfolios", "ideas", "models", "model_versions", "scores", "score_figures")


def upgrade() -> None:
    run_sql(
        """
        CREATE FUNCTION scoring.touch_every_read_generation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO scoring.read_touches (portfolio_id)
            SELECT id FROM access.portfolios UNION SELECT portfolio_id FROM scoring.read_generations
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$;
        """
    )
    for table in _WATCHED:
        run_sql(
            f"""
            CREATE TRIGGER {table}_truncate_touches_reads AFTER TRUNCATE ON scoring.{table}
                FOR EACH STATEMENT EXECUTE FUNCTION scoring.touch_every_read_generation();
            """
        )


def downgrade() -> None:
    for table in _WATCHED:
        run_sql(f"DROP TRIGGER {table}_truncate_touches_reads ON scoring.{table};")
    run_sql("DROP FUNCTION scoring.touch_every_read_generation();")
