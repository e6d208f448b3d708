"""The store's tables as the first releases created them (calls, transcripts, scorecards, reviews,
overrides, sample picks). Stores made before migrations existed are stamped at this revision; 0003 adds
what the earliest of them lack.

Revision ID: 0001
Revises:
"""

from alembic import op

from qa_pipeline.store.migrations.baseline import baseline_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    for name, columns in baseline_tables().items():
        op.create_table(name, *columns)


def downgrade() -> None:
    for name in reversed(baseline_tables()):
        op.drop_table(name)
