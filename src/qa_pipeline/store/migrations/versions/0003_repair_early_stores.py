"""Stores made before migrations existed get what revision 0001 assumed they had.

Such a store is stamped at 0001 when first opened, but the earliest releases created only some of its
tables (no scorecards, reviews, overrides or sample picks) and keyed transcripts by cache key alone, so
one recording could not be stored under two call ids and every transcript save failed its ON CONFLICT.
Stores that were already complete are left as they are.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from qa_pipeline.store.migrations.baseline import baseline_tables

revision = "0003"
down_revision = "0002"

TRANSCRIPT_KEY = ["cache_key", "call_id"]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for name, columns in baseline_tables().items():
        if not inspector.has_table(name):
            op.create_table(name, *columns)
    key = inspector.get_pk_constraint("transcripts")
    if key["constrained_columns"] == TRANSCRIPT_KEY:
        return
    # SQLite cannot change a key: it copies the rows into the table as 0001 makes it. PostgreSQL alters it.
    keyed = sa.Table("transcripts", sa.MetaData(), *baseline_tables()["transcripts"])
    with op.batch_alter_table("transcripts", copy_from=keyed) as batch:
        if key["name"]:
            batch.drop_constraint(key["name"], type_="primary")
        batch.create_primary_key("transcripts_pkey", TRANSCRIPT_KEY)


def downgrade() -> None:
    """The repair is kept: the tables and key it adds are those revision 0001 describes."""
