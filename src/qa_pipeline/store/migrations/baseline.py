"""The tables of revision 0001, declared once for the two migrations that create them: 0001 for a new
store, 0003 for a store made before migrations existed that lacks some of them."""

from __future__ import annotations

import sqlalchemy as sa


def baseline_tables() -> dict[str, list[sa.Column[object]]]:
    """Fresh columns on each call (a column belongs to one table), in creation order."""
    return {
        "calls": [
            sa.Column("call_id", sa.String(128), primary_key=True),
            sa.Column("audio_path", sa.String, nullable=False),
            sa.Column("audio_sha256", sa.String(64), nullable=False),
            sa.Column("duration", sa.Float, nullable=False),
            sa.Column("sample_rate", sa.Integer, nullable=False),
            sa.Column("channels", sa.Integer, nullable=False),
            sa.Column("metadata", sa.JSON, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        ],
        "transcripts": [
            sa.Column("cache_key", sa.String(64), primary_key=True),
            sa.Column("call_id", sa.String(128), primary_key=True),
            sa.Column("audio_sha256", sa.String(64), nullable=False),
            sa.Column("model", sa.String, nullable=False),
            sa.Column("options", sa.JSON, nullable=False),
            sa.Column("transcript", sa.JSON, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        ],
        "scorecards": [
            sa.Column("cache_key", sa.String(64), primary_key=True),
            sa.Column("call_id", sa.String(128), nullable=False, index=True),
            sa.Column("checklist_id", sa.String(64), nullable=False),
            sa.Column("checklist_version", sa.String(32), nullable=False),
            sa.Column("judge", sa.JSON, nullable=False),
            sa.Column("scorecard", sa.JSON, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        ],
        "human_reviews": [
            sa.Column("call_id", sa.String(128), primary_key=True),
            sa.Column("checklist_id", sa.String(64), primary_key=True),
            sa.Column("item_id", sa.String(64), primary_key=True),
            sa.Column("reviewer", sa.String(128), primary_key=True),
            sa.Column("answer", sa.JSON, nullable=False),
            sa.Column("comment", sa.String, nullable=False),
            sa.Column("source", sa.String, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        ],
        "overrides": [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("call_id", sa.String(128), nullable=False, index=True),
            sa.Column("checklist_id", sa.String(64), nullable=False),
            sa.Column("item_id", sa.String(64), nullable=False),
            sa.Column("supervisor", sa.String(128), nullable=False),
            sa.Column("ai_answer", sa.JSON, nullable=True),
            sa.Column("answer", sa.JSON, nullable=False),
            sa.Column("comment", sa.String, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        ],
        "sample_picks": [
            sa.Column("sample_id", sa.String(128), primary_key=True),
            sa.Column("call_id", sa.String(128), primary_key=True),
            sa.Column("checklist_id", sa.String(64), primary_key=True),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("reasons", sa.JSON, nullable=False),
            sa.Column("reviewers", sa.JSON, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        ],
    }
