"""Work claims, so that several workers share a run on one store.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("claims"):  # made by a build that created tables directly
        return
    op.create_table(
        "claims",
        sa.Column("stage", sa.String(16), primary_key=True),
        sa.Column("work_key", sa.String(300), primary_key=True),
        sa.Column("worker", sa.String(256), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("claims")
