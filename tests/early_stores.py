"""Stores as releases before schema migrations made them, in plain SQL: the CREATE TABLE statements
SQLAlchemy's `metadata.create_all` emitted for the tables of src/qa_pipeline/store.py at each commit
(`git show <commit>:src/qa_pipeline/store.py`), on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from conftest import typed_transcript

from qa_pipeline.models import Transcript

CALLS = """CREATE TABLE calls (
    call_id VARCHAR(128) NOT NULL,
    audio_path VARCHAR NOT NULL,
    audio_sha256 VARCHAR(64) NOT NULL,
    duration FLOAT NOT NULL,
    sample_rate INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    metadata JSON NOT NULL,
    updated_at {timestamp} NOT NULL,
    PRIMARY KEY (call_id)
)"""

# 0405ee2 and a72e989: one transcript row per cache key.
TRANSCRIPTS_BY_CACHE_KEY = """CREATE TABLE transcripts (
    cache_key VARCHAR(64) NOT NULL,
    call_id VARCHAR(128) NOT NULL,
    audio_sha256 VARCHAR(64) NOT NULL,
    model VARCHAR NOT NULL,
    options JSON NOT NULL,
    transcript JSON NOT NULL,
    created_at {timestamp} NOT NULL,
    PRIMARY KEY (cache_key)
)"""
TRANSCRIPTS_CALL_INDEX = "CREATE INDEX ix_transcripts_call_id ON transcripts (call_id)"

# d0775bb onwards: one row per cache key and call id.
TRANSCRIPTS_BY_CALL = """CREATE TABLE transcripts (
    cache_key VARCHAR(64) NOT NULL,
    call_id VARCHAR(128) NOT NULL,
    audio_sha256 VARCHAR(64) NOT NULL,
    model VARCHAR NOT NULL,
    options JSON NOT NULL,
    transcript JSON NOT NULL,
    created_at {timestamp} NOT NULL,
    PRIMARY KEY (cache_key, call_id)
)"""

# a72e989 onwards.
SCORECARDS = """CREATE TABLE scorecards (
    cache_key VARCHAR(64) NOT NULL,
    call_id VARCHAR(128) NOT NULL,
    checklist_id VARCHAR(64) NOT NULL,
    checklist_version VARCHAR(32) NOT NULL,
    judge JSON NOT NULL,
    scorecard JSON NOT NULL,
    created_at {timestamp} NOT NULL,
    PRIMARY KEY (cache_key)
)"""
SCORECARDS_CALL_INDEX = "CREATE INDEX ix_scorecards_call_id ON scorecards (call_id)"

# 5b7b43d to b061413, the last release without migrations.
HUMAN_REVIEWS = """CREATE TABLE human_reviews (
    call_id VARCHAR(128) NOT NULL,
    checklist_id VARCHAR(64) NOT NULL,
    item_id VARCHAR(64) NOT NULL,
    reviewer VARCHAR(128) NOT NULL,
    answer JSON NOT NULL,
    comment VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    updated_at {timestamp} NOT NULL,
    PRIMARY KEY (call_id, checklist_id, item_id, reviewer)
)"""
OVERRIDES = """CREATE TABLE overrides (
    id {serial} NOT NULL,
    call_id VARCHAR(128) NOT NULL,
    checklist_id VARCHAR(64) NOT NULL,
    item_id VARCHAR(64) NOT NULL,
    supervisor VARCHAR(128) NOT NULL,
    ai_answer JSON,
    answer JSON NOT NULL,
    comment VARCHAR NOT NULL,
    created_at {timestamp} NOT NULL,
    PRIMARY KEY (id)
)"""
OVERRIDES_CALL_INDEX = "CREATE INDEX ix_overrides_call_id ON overrides (call_id)"
SAMPLE_PICKS = """CREATE TABLE sample_picks (
    sample_id VARCHAR(128) NOT NULL,
    call_id VARCHAR(128) NOT NULL,
    checklist_id VARCHAR(64) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    reasons JSON NOT NULL,
    reviewers JSON NOT NULL,
    created_at {timestamp} NOT NULL,
    PRIMARY KEY (sample_id, call_id, checklist_id)
)"""

HUMAN_CONTROL = [HUMAN_REVIEWS, OVERRIDES, OVERRIDES_CALL_INDEX, SAMPLE_PICKS]
EARLY_STORES = {
    "0405ee2": [CALLS, TRANSCRIPTS_BY_CACHE_KEY, TRANSCRIPTS_CALL_INDEX],
    "a72e989": [CALLS, TRANSCRIPTS_BY_CACHE_KEY, TRANSCRIPTS_CALL_INDEX, SCORECARDS, SCORECARDS_CALL_INDEX],
    "d0775bb": [CALLS, TRANSCRIPTS_BY_CALL, SCORECARDS, SCORECARDS_CALL_INDEX],
    "b061413": [CALLS, TRANSCRIPTS_BY_CALL, SCORECARDS, SCORECARDS_CALL_INDEX, *HUMAN_CONTROL],
}

# What the first release with migrations (01593a1) did to such a store when it opened it: stamped it at
# 0001 and added the claims table of 0002, so the missing tables stayed missing.
STAMPED_AT_0002 = [
    """CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
)""",
    "INSERT INTO alembic_version (version_num) VALUES ('0002')",
    """CREATE TABLE claims (
    stage VARCHAR(16) NOT NULL,
    work_key VARCHAR(300) NOT NULL,
    worker VARCHAR(256) NOT NULL,
    expires_at {timestamp} NOT NULL,
    PRIMARY KEY (stage, work_key)
)""",
]

_TYPES = {
    "sqlite": {"timestamp": "DATETIME", "serial": "INTEGER"},
    "postgresql": {"timestamp": "TIMESTAMP WITH TIME ZONE", "serial": "SERIAL"},
}


def make_early_store(url: str, commit: str, *, opened_since: bool = False) -> None:
    """Create the store `commit`'s code made at `url`, with one call and its transcript in it; with
    `opened_since`, as the first release with migrations left it after opening it."""
    engine = sa.create_engine(url)
    types = _TYPES[engine.dialect.name]
    statements = EARLY_STORES[commit] + (STAMPED_AT_0002 if opened_since else [])
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement.format(**types)))
        conn.execute(
            sa.text(
                "INSERT INTO calls VALUES ('early', '/calls/early.wav', :sha, 12.5, 8000, 2, '{}', :now)"
            ),
            {"sha": "a" * 64, "now": "2026-01-05 10:00:00"},
        )
        conn.execute(
            sa.text("INSERT INTO transcripts VALUES ('key-early', 'early', :sha, 'base', '{}', :doc, :now)"),
            {"sha": "a" * 64, "doc": EARLY_TRANSCRIPT.model_dump_json(), "now": "2026-01-05 10:00:00"},
        )
    engine.dispose()


EARLY_TRANSCRIPT: Transcript = typed_transcript(("agent", "Good morning, this is Anna.")).model_copy(
    update={"call_id": "early", "audio_sha256": "a" * 64}
)
