"""Calibration sessions: calls a supervisor has several controllers score blind.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("calibration_sessions"):  # a build that created tables directly
        return
    op.create_table(
        "calibration_sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("calls", sa.JSON, nullable=False),
        sa.Column("controllers", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("calibration_sessions")
