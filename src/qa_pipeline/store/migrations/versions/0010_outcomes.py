"""Customer and employee outcomes: survey answers (CSAT, NPS, CES) and eNPS per team and period.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())  # a build that created tables directly
    if "survey_answers" not in existing:
        op.create_table(
            "survey_answers",
            sa.Column("key", sa.String(64), primary_key=True),
            sa.Column("call_id", sa.String(128), nullable=True),
            sa.Column("customer_id", sa.String(128), nullable=True),
            sa.Column("date", sa.String(32), nullable=True),
            sa.Column("csat", sa.Float, nullable=True),
            sa.Column("nps", sa.Float, nullable=True),
            sa.Column("ces", sa.Float, nullable=True),
            sa.Column("source", sa.String, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
        op.create_index("ix_survey_answers_call_id", "survey_answers", ["call_id"])
    if "team_enps" not in existing:
        op.create_table(
            "team_enps",
            sa.Column("team", sa.String(128), primary_key=True),
            sa.Column("period", sa.String(16), primary_key=True),
            sa.Column("enps", sa.Float, nullable=False),
            sa.Column("source", sa.String, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("team_enps")
    op.drop_index("ix_survey_answers_call_id", "survey_answers")
    op.drop_table("survey_answers")
