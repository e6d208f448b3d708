"""Voice-of-the-customer fields per conversation (contact reason, resolution, effort, sentiment...).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("voc_records"):  # a build that created tables directly
        return
    op.create_table(
        "voc_records",
        sa.Column("call_id", sa.String(128), primary_key=True),
        sa.Column("cache_key", sa.String(64), nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("voc_records")
