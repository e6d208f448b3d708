"""The store's tables as the first releases created them (calls, transcripts, scorecards, reviews,
overrides, sample picks). Stores made before migrations existed are stamped at this revision.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(128), primary_key=True),
        sa.Column("audio_path", sa.String, nullable=False),
        sa.Column("audio_sha256", sa.String(64), nullable=False),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("sample_rate", sa.Integer, nullable=False),
        sa.Column("channels", sa.Integer, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "transcripts",
        sa.Column("cache_key", sa.String(64), primary_key=True),
        sa.Column("call_id", sa.String(128), primary_key=True),
        sa.Column("audio_sha256", sa.String(64), nullable=False),
        sa.Column("model", sa.String, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "scorecards",
        sa.Column("cache_key", sa.String(64), primary_key=True),
        sa.Column("call_id", sa.String(128), nullable=False, index=True),
        sa.Column("checklist_id", sa.String(64), nullable=False),
        sa.Column("checklist_version", sa.String(32), nullable=False),
        sa.Column("judge", sa.JSON, nullable=False),
        sa.Column("scorecard", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "human_reviews",
        sa.Column("call_id", sa.String(128), primary_key=True),
        sa.Column("checklist_id", sa.String(64), primary_key=True),
        sa.Column("item_id", sa.String(64), primary_key=True),
        sa.Column("reviewer", sa.String(128), primary_key=True),
        sa.Column("answer", sa.JSON, nullable=False),
        sa.Column("comment", sa.String, nullable=False),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(128), nullable=False, index=True),
        sa.Column("checklist_id", sa.String(64), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("supervisor", sa.String(128), nullable=False),
        sa.Column("ai_answer", sa.JSON, nullable=True),
        sa.Column("answer", sa.JSON, nullable=False),
        sa.Column("comment", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sample_picks",
        sa.Column("sample_id", sa.String(128), primary_key=True),
        sa.Column("call_id", sa.String(128), primary_key=True),
        sa.Column("checklist_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("reviewers", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("sample_picks", "overrides", "human_reviews", "scorecards", "transcripts", "calls"):
        op.drop_table(table)
