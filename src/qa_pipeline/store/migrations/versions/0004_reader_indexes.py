"""Indexes for the store's readers: each call's newest transcript and scorecard is found in SQL, and calls
are read a page at a time in key order, so these look-ups must not scan the table.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

INDEXES = {
    "ix_transcripts_call_newest": ("transcripts", ["call_id", "created_at"]),
    "ix_scorecards_card_newest": ("scorecards", ["call_id", "checklist_id", "created_at"]),
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for name, (table, columns) in INDEXES.items():
        if name not in {index["name"] for index in inspector.get_indexes(table)}:  # made from the tables
            op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
