"""The browser workspace's people: users, agents' disputes of their verdicts, acknowledgements.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())  # a build that created tables directly
    if {"users", "disputes", "acknowledgements"} <= existing:
        return
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("teams", sa.JSON, nullable=False),
        sa.Column("agent", sa.String(128), nullable=True),
        sa.Column("blind", sa.Boolean, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("checklist_id", sa.String(64), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(128), nullable=False),
        sa.Column("raised_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.String, nullable=False),
        sa.Column("disputed_answer", sa.JSON, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decision_comment", sa.String, nullable=True),
        sa.Column("answer", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_disputes_call_id", "disputes", ["call_id"])
    op.create_table(
        "acknowledgements",
        sa.Column("call_id", sa.String(128), primary_key=True),
        sa.Column("checklist_id", sa.String(64), primary_key=True),
        sa.Column("agent", sa.String(128), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("acknowledgements")
    op.drop_index("ix_disputes_call_id", "disputes")
    op.drop_table("disputes")
    op.drop_table("users")
