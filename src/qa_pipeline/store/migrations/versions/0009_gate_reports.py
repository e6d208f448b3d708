"""The regression gate's reports, for the workspace's page.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("gate_reports"):  # a build that created tables directly
        return
    op.create_table(
        "gate_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("checklists", sa.JSON, nullable=False),
        sa.Column("judge", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gate_reports")
