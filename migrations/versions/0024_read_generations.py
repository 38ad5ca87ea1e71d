"""Scoring: a generation per portfolio, bumped by every committed change a hot read shows.

A ranking page or a filtered ideas page answered again while nothing it shows has changed can
be served from the bytes encoded the first time (services/kit/read_cache.py), if the server
can tell, cheaply and exactly, that nothing changed. The first statement of such a read
already checks the caller's membership; it now also reads the portfolio's generation, and a
page is reused only when it was encoded at that same generation (issue 14).

Every table those pages read (portfolios, ideas, scores and their stored figures, models and
their versions) has statement-level triggers, so any writer, present or future, application,
job or hand-written SQL, moves the generation. They do not bump it themselves: each records a
touch of the portfolio for its transaction, and a deferred constraint trigger turns the touch
into the bump when the transaction commits. The generation row is then locked only for the
last moment of a transaction, after every other lock it takes, so writers of one portfolio
never wait on it mid-transaction and cannot deadlock over it; a rolled-back transaction bumps
nothing.

Revision ID: 0024
Revises: 0023
"""

from services.kit.migrate import run_sql

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# (table, the changed rows' portfolios, from the transition table `changed`)
_WATCHED = (
    ("portfolios", "SELECT id FROM changed"),
    ("ideas", "SELECT portfolio_id FROM changed"),
    ("models", "SELECT portfolio_id FROM changed"),
    ("model_versions", "SELECT m.portfolio_id FROM changed c JOIN scoring.models m ON m.id = c.model_id"),
    (
        "scores",
        "SELECT m.portfolio_id FROM changed c JOIN scoring.model_versions v ON v.id = c.model_version_id "
        "JOIN scoring.models m ON m.id = v.model_id",
    ),
    (
        "score_figures",
        "SELECT m.portfolio_id FROM changed c JOIN scoring.model_versions v ON v.id = c.model_version_id "
        "JOIN scoring.models m ON m.id = v.model_id",
    ),
)
# A transition table serves one event; a delete's rows are the old ones. A cascaded delete
# (a model's versions and scores, an idea's scores) finds its parents gone and touches
# nothing, but the parent's own delete has touched the portfolio already.
_EVENTS = (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))


def upgrade() -> None:
    run_sql(
        """
        CREATE TABLE scoring.read_generations (
            portfolio_id uuid PRIMARY KEY,
            generation   bigint NOT NULL
        );
        -- One row per transaction and portfolio it changed, deleted again as it commits.
        CREATE TABLE scoring.read_touches (
            portfolio_id uuid NOT NULL,
            xact         xid8 NOT NULL DEFAULT pg_current_xact_id(),
            PRIMARY KEY (portfolio_id, xact)
        );

        -- TG_ARGV[0]: a query over the transition table `changed` giving the portfolios.
        CREATE FUNCTION scoring.touch_read_generation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE format(
                'INSERT INTO scoring.read_touches (portfolio_id) '
                'SELECT DISTINCT portfolio_id FROM (%s) AS p(portfolio_id) WHERE portfolio_id IS NOT NULL '
                'ON CONFLICT DO NOTHING',
                TG_ARGV[0]
            );
            RETURN NULL;
        END $$;

        CREATE FUNCTION scoring.bump_read_generation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO scoring.read_generations AS g (portfolio_id, generation)
            VALUES (NEW.portfolio_id, 1)
            ON CONFLICT (portfolio_id) DO UPDATE SET generation = g.generation + 1;
            DELETE FROM scoring.read_touches WHERE portfolio_id = NEW.portfolio_id AND xact = NEW.xact;
            RETURN NULL;
        END $$;

        CREATE CONSTRAINT TRIGGER read_touch_bumps_generation
            AFTER INSERT ON scoring.read_touches DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION scoring.bump_read_generation();
        """
    )
    for table, portfolios in _WATCHED:
        for event, rows in _EVENTS:
            quoted = portfolios.replace("'", "''")
            run_sql(
                f"""
                CREATE TRIGGER {table}_{event.lower()}_touches_reads
                    AFTER {event} ON scoring.{table} REFERENCING {rows} TABLE AS changed
                    FOR EACH STATEMENT EXECUTE FUNCTION scoring.touch_read_generation('{quoted}');
                """
            )


def downgrade() -> None:
    for table, _ in _WATCHED:
        for event, _rows in _EVENTS:
            run_sql(f"DROP TRIGGER {table}_{event.lower()}_touches_reads ON scoring.{table};")
    run_sql(
        """
        DROP TABLE scoring.read_touches;
        DROP TABLE scoring.read_generations;
        DROP FUNCTION scoring.bump_read_generation();
        DROP FUNCTION scoring.touch_read_generation();
        """
    )
