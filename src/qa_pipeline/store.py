"""The project store: every finished unit of work, so a killed run resumes where it stopped.

SQLite in the work folder by default (WAL mode, one transaction per finished call); any SQLAlchemy URL,
such as PostgreSQL, when several workers share the work.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from qa_pipeline.errors import StoreError
from qa_pipeline.models import Call, Scorecard, Transcript

DEFAULT_STORE = Path("qa-work") / "qa.sqlite"

metadata = MetaData()

calls_table = Table(
    "calls",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("audio_path", String, nullable=False),
    Column("audio_sha256", String(64), nullable=False),
    Column("duration", Float, nullable=False),
    Column("sample_rate", Integer, nullable=False),
    Column("channels", Integer, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

transcripts_table = Table(
    "transcripts",
    metadata,
    # One recording may be imported under several call ids (duplicate exports): each keeps its row.
    Column("cache_key", String(64), primary_key=True),
    Column("call_id", String(128), primary_key=True),
    Column("audio_sha256", String(64), nullable=False),
    Column("model", String, nullable=False),
    Column("options", JSON, nullable=False),
    Column("transcript", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

scorecards_table = Table(
    "scorecards",
    metadata,
    Column("cache_key", String(64), primary_key=True),
    Column("call_id", String(128), nullable=False, index=True),
    Column("checklist_id", String(64), nullable=False),
    Column("checklist_version", String(32), nullable=False),
    Column("judge", JSON, nullable=False),
    Column("scorecard", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def transcript_cache_key(audio_sha256: str, model: str, options: dict[str, Any]) -> str:
    """Same audio, model and output-affecting options give the same key, whatever the call is named."""
    payload = json.dumps({"audio": audio_sha256, "model": model, "options": options}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class Store:
    def __init__(self, location: str | Path = DEFAULT_STORE) -> None:
        url = str(location)
        if "://" not in url:
            path = Path(url)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path}: cannot create the store's folder ({exc})") from exc
            url = f"sqlite:///{path}"
        self.url = url
        try:
            self.engine: Engine = create_engine(url)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open store {location}: {exc}") from exc

    def cached_transcript(self, cache_key: str) -> Transcript | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(transcripts_table.c.transcript)
                .where(transcripts_table.c.cache_key == cache_key)
                .limit(1)
            ).first()
        return Transcript.model_validate(row[0]) if row else None

    def save_transcript(self, cache_key: str, call: Call, transcript: Transcript) -> None:
        """Call and transcript land together or not at all."""
        now = datetime.now(UTC)
        call_row = {
            "call_id": call.call_id,
            "audio_path": call.audio_path,
            "audio_sha256": call.audio.sha256,
            "duration": call.audio.duration,
            "sample_rate": call.audio.sample_rate,
            "channels": call.audio.channels,
            "metadata": call.metadata.model_dump(),
            "updated_at": now,
        }
        transcript_row = {
            "cache_key": cache_key,
            "call_id": call.call_id,
            "audio_sha256": call.audio.sha256,
            "model": transcript.model,
            "options": transcript.options,
            "transcript": transcript.model_dump(mode="json"),
            "created_at": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(self._upsert(calls_table, call_row, ["call_id"]))
                conn.execute(self._upsert(transcripts_table, transcript_row, ["cache_key", "call_id"]))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save transcript of {call.call_id} to {self.url}: {exc}") from exc

    def transcripts(self) -> list[Transcript]:
        """The newest transcript of every call."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(transcripts_table.c.call_id, transcripts_table.c.transcript).order_by(
                    transcripts_table.c.created_at
                )
            ).all()
        newest = {call_id: payload for call_id, payload in rows}
        return [Transcript.model_validate(newest[k]) for k in sorted(newest)]

    def cached_scorecard(self, cache_key: str) -> Scorecard | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(scorecards_table.c.scorecard).where(scorecards_table.c.cache_key == cache_key)
            ).first()
        return Scorecard.model_validate(row[0]) if row else None

    def save_scorecard(self, cache_key: str, scorecard: Scorecard) -> None:
        row = {
            "cache_key": cache_key,
            "call_id": scorecard.call_id,
            "checklist_id": scorecard.checklist_id,
            "checklist_version": scorecard.checklist_version,
            "judge": scorecard.judge,
            "scorecard": scorecard.model_dump(mode="json"),
            "created_at": datetime.now(UTC),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(self._upsert(scorecards_table, row, ["cache_key"]))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save scorecard of {scorecard.call_id} to {self.url}: {exc}") from exc

    def _upsert(self, table: Table, row: dict[str, Any], keys: list[str]) -> Any:
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(table).values(**row)
        updates = {name: statement.excluded[name] for name in row if name not in keys}
        return statement.on_conflict_do_update(index_elements=keys, set_=updates)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
