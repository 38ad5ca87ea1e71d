"""The labels a push set on each issue, so the next update can take back the ones it no longer sets.

An owner's department is a label on the idea's issue; when the department changes, the update
adds the new label, and without knowing what it set before it could not tell the old one from
a label someone added in Jira. Issues pushed before this revision have none recorded: their
old labels stay, as they did.

Revision ID: 0022
Revises: 0021
"""

from services.kit.migrate import run_sql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("ALTER TABLE integrations.issue_links ADD COLUMN pushed_labels text[] NOT NULL DEFAULT '{}'")


def downgrade() -> None:
    run_sql("ALTER TABLE integrations.issue_links DROP COLUMN pushed_labels")
