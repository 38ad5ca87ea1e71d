"""Scoring: a score row holds all a ranking page shows of its idea, so a page reads one table.

A 1,000-idea ranking page spent most of its time joining the ideas by primary key (about 3.7 ms
of 5 in PostgreSQL), turning each breakdown from jsonb into text, and decoding and rounding
the breakdowns in Python (issue 14). Each score row now also holds:

- copies of its idea's title, persona, journey stage, touchpoint and `estimated_at` (in
  microseconds). The writer of scores copies them from the idea in the statement that writes
  the score. A trigger on the ideas carries every later change of them to the idea's score rows
  under every model version, whoever the writer (application, job or hand-written SQL).
- `shown_score` and `shown_breakdown`: the score as every answer shows it (ten significant
  digits), and the breakdown so (its contributions rounded alike) as JSON text, written with
  the score (score_repository.upsert_scores). The rows already scored get them here, from their
  stored score and breakdown, by the same code.

Revision ID: 0025
Revises: 0024
"""

from services.kit.migrate import run_sql

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# Each copy, and how it is read from an idea row `{0}`. `estimated_us` is the idea's
# `estimated_at` in microseconds since the Unix epoch, exactly: a page compares it with the
# review cutoff, and asyncpg decodes a bigint in a fraction of the time of a timestamptz.
_COPIES = {
    "title": "{0}.title",
    "persona": "{0}.persona",
    "journey_stage": "{0}.journey_stage",
    "touchpoint": "{0}.touchpoint",
    "estimated_us": "(extract(epoch FROM {0}.estimated_at) * 1000000)::bigint",
}


# The portfolios of changed score rows, as migration 0024 reads them.
_SCORES_PORTFOLIOS = (
    "'SELECT m.portfolio_id FROM changed c JOIN scoring.model_versions v ON v.id = c.model_version_id "
    "JOIN scoring.models m ON m.id = v.model_id'"
)


def _from(row: str) -> list[str]:
    return [expression.format(row) for expression in _COPIES.values()]


def upgrade() -> None:
    columns = ", ".join(_COPIES)
    run_sql(
        f"""
        ALTER TABLE scoring.scores
            ADD COLUMN title text, ADD COLUMN persona text, ADD COLUMN journey_stage text,
            ADD COLUMN touchpoint text, ADD COLUMN estimated_us bigint,
            ADD COLUMN shown_score double precision, ADD COLUMN shown_breakdown text;
        UPDATE scoring.scores s SET ({columns}) = ({", ".join(_from("i"))}) FROM scoring.ideas i WHERE i.id = s.idea_id;
        ALTER TABLE scoring.scores ALTER COLUMN title SET NOT NULL, ALTER COLUMN estimated_us SET NOT NULL;

        -- Deferred to the commit, and reading the idea as it then is: the application rescores
        -- an idea it changes, which copies its fields with the scores, so by then this mostly
        -- finds nothing to change and writes nothing (run at each update, it wrote every such
        -- score row twice). Other writers' changes are copied here.
        CREATE FUNCTION scoring.copy_idea_to_scores() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE scoring.scores s SET ({columns}) = ({", ".join(_from("i"))})
            FROM scoring.ideas i
            WHERE i.id = NEW.id AND s.idea_id = i.id
              AND ({", ".join(f"s.{column}" for column in _COPIES)}) IS DISTINCT FROM ({", ".join(_from("i"))});
            RETURN NULL;
        END $$;
        -- WHEN is evaluated without calling the function: an update that changes none of the
        -- copied fields queues nothing.
        CREATE CONSTRAINT TRIGGER ideas_update_copies_to_scores
            AFTER UPDATE OF title, persona, journey_stage, touchpoint, estimated_at ON scoring.ideas
            DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (({", ".join(_from("OLD"))}) IS DISTINCT FROM ({", ".join(_from("NEW"))}))
            EXECUTE FUNCTION scoring.copy_idea_to_scores();

        -- The copies' update of the score rows needs no read-generation touch of its own: the
        -- update of the idea that set it off touched the portfolio (migration 0024). Dynamic
        -- SQL planned afresh each time, that touch was most of what an idea's update paid here.
        DROP TRIGGER scores_update_touches_reads ON scoring.scores;
        CREATE TRIGGER scores_update_touches_reads
            AFTER UPDATE ON scoring.scores REFERENCING NEW TABLE AS changed
            FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0)
            EXECUTE FUNCTION scoring.touch_read_generation({_SCORES_PORTFOLIOS});

        -- A writer that leaves them out (hand-written SQL) gets the copies from the idea, and
        -- the score and breakdown as stored. The application writes them, so WHEN spares it the call.
        CREATE FUNCTION scoring.fill_score_copies() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.title IS NULL THEN
                SELECT {", ".join(_from("i"))} INTO {", ".join(f"NEW.{column}" for column in _COPIES)}
                FROM scoring.ideas i WHERE i.id = NEW.idea_id;
            END IF;
            NEW.shown_score := coalesce(NEW.shown_score, NEW.score);
            NEW.shown_breakdown := coalesce(NEW.shown_breakdown, NEW.breakdown::text);
            RETURN NEW;
        END $$;
        CREATE TRIGGER scores_fill_copies
            BEFORE INSERT ON scoring.scores
            FOR EACH ROW
            WHEN (NEW.title IS NULL OR NEW.shown_breakdown IS NULL OR (NEW.shown_score IS NULL) <> (NEW.score IS NULL))
            EXECUTE FUNCTION scoring.fill_score_copies();
        """
    )
    _fill_shown_scores()
    run_sql("ALTER TABLE scoring.scores ALTER COLUMN shown_breakdown SET NOT NULL;")


_BATCH = 5000


def _fill_shown_scores() -> None:
    """Each stored score and breakdown as shown, by the code that writes new scores; a batch of
    rows at a time in primary-key order, so a large database is not read into memory at once."""
    from alembic import op
    from sqlalchemy.util import await_only

    from services.scoring.score_types import shown, shown_breakdown_json

    conn = op.get_bind().connection.driver_connection
    after = ("00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000")
    while records := await_only(
        conn.fetch(
            "SELECT model_version_id, idea_id, score, breakdown::text FROM scoring.scores "
            "WHERE (model_version_id, idea_id) > ($1::uuid, $2::uuid) ORDER BY model_version_id, idea_id LIMIT $3",
            *after,
            _BATCH,
        )
    ):
        await_only(
            conn.execute(
                """
                UPDATE scoring.scores s SET shown_score = b.score, shown_breakdown = b.breakdown
                FROM unnest($1::uuid[], $2::uuid[], $3::float8[], $4::text[]) AS b(model_version_id, idea_id, score, breakdown)
                WHERE s.model_version_id = b.model_version_id AND s.idea_id = b.idea_id
                """,
                [record[0] for record in records],
                [record[1] for record in records],
                [shown(record[2]) for record in records],
                [shown_breakdown_json(record[3]) for record in records],
            )
        )
        after = (records[-1][0], records[-1][1])


def downgrade() -> None:
    run_sql(
        f"""
        DROP TRIGGER scores_update_touches_reads ON scoring.scores;
        CREATE TRIGGER scores_update_touches_reads
            AFTER UPDATE ON scoring.scores REFERENCING NEW TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION scoring.touch_read_generation({_SCORES_PORTFOLIOS});
        DROP TRIGGER scores_fill_copies ON scoring.scores;
        DROP FUNCTION scoring.fill_score_copies();
        DROP TRIGGER ideas_update_copies_to_scores ON scoring.ideas;
        DROP FUNCTION scoring.copy_idea_to_scores();
        ALTER TABLE scoring.scores
            DROP COLUMN title, DROP COLUMN persona, DROP COLUMN journey_stage, DROP COLUMN touchpoint,
            DROP COLUMN estimated_us, DROP COLUMN shown_score, DROP COLUMN shown_breakdown;
        """
    )
