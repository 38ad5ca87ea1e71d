"""Scoring: the ideas list filters journey values whatever their case (`lower(column) = lower($n)`).

The indexes let a filter on a portfolio's persona, stage, touchpoint, channel or department use
an index, and, as important, give the planner statistics on the lowered values: without them
it guesses that a filter keeps a handful of ideas and reads and sorts every idea of the
portfolio, where it should walk the ref order and stop after the page (issue 14).

Revision ID: 0019
Revises: 0017
"""

from services.kit.migrate import run_sql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_FACETS = ("persona", "journey_stage", "touchpoint", "channel", "department")


def upgrade() -> None:
    run_sql(
        "\n".join(
            f"CREATE INDEX ideas_by_{facet}_any_case ON scoring.ideas (portfolio_id, lower({facet}));"
            for facet in _FACETS
        )
        + "\nANALYZE scoring.ideas;"
    )


def downgrade() -> None:
    run_sql("\n".join(f"DROP INDEX scoring.ideas_by_{facet}_any_case;" for facet in _FACETS))
