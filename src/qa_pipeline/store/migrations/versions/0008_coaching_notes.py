"""Coaching notes: a supervisor's note to an agent, and the agent's acknowledgement.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("coaching_notes"):  # a build that created tables directly
        return
    op.create_table(
        "coaching_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("agent", sa.String(128), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("text", sa.String, nullable=False),
        sa.Column("acknowledged", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_coaching_notes_agent", "coaching_notes", ["agent"])


def downgrade() -> None:
    op.drop_index("ix_coaching_notes_agent", "coaching_notes")
    op.drop_table("coaching_notes")
