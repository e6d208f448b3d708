"""The project store: every finished unit of work, so a killed run resumes where it stopped.

SQLite in the work folder by default (WAL mode, one transaction per finished call); any SQLAlchemy URL,
such as PostgreSQL, when several workers share the work.

Readers of per-call tables are lazy: they pick each call's newest row in SQL and read it in pages of
`PAGE_ROWS` ordered by key (keyset pagination), so a store of any size is read in bounded memory and no
connection stays open while the caller works on a page. Lists of call ids go to the database in chunks,
never as one `IN (...)` list, which SQLite and psycopg cap at some tens of thousands of parameters.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    create_engine,
    delete,
    event,
    exists,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from qa_pipeline.errors import StoreError
from qa_pipeline.models import (
    Acknowledgement,
    CalibrationSession,
    Call,
    CallMetadata,
    CoachingNote,
    Dispute,
    DisputeStatus,
    HumanReview,
    Override,
    SamplePick,
    Scorecard,
    Transcript,
    User,
)
from qa_pipeline.store.schema import upgrade_schema
from qa_pipeline.store.workers import holder_is_dead, worker_name
from qa_pipeline.voc.outcomes import SurveyAnswer, TeamEnps
from qa_pipeline.workspace import DEFAULT_WORKSPACE

DEFAULT_STORE = DEFAULT_WORKSPACE.store_url
M = TypeVar("M", bound=BaseModel)
logger = logging.getLogger(__name__)
PAGE_ROWS = 500
"""Rows per page of a reader, and call ids per chunk of an id list."""

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
    # Each call's newest transcript, and calls in id order (migration 0004).
    Index("ix_transcripts_call_newest", "call_id", "created_at"),
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
    Index("ix_scorecards_card_newest", "call_id", "checklist_id", "created_at"),
)


human_reviews_table = Table(
    "human_reviews",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("checklist_id", String(64), primary_key=True),
    Column("item_id", String(64), primary_key=True),
    Column("reviewer", String(128), primary_key=True),
    Column("answer", JSON, nullable=False),
    Column("comment", String, nullable=False),
    Column("source", String, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

overrides_table = Table(
    "overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(128), nullable=False, index=True),
    Column("checklist_id", String(64), nullable=False),
    Column("item_id", String(64), nullable=False),
    Column("supervisor", String(128), nullable=False),
    Column("ai_answer", JSON, nullable=True),
    Column("answer", JSON, nullable=False),
    Column("comment", String, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sample_picks_table = Table(
    "sample_picks",
    metadata,
    Column("sample_id", String(128), primary_key=True),
    Column("call_id", String(128), primary_key=True),
    Column("checklist_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("reviewers", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

users_table = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("teams", JSON, nullable=False),
    Column("agent", String(128), nullable=True),
    Column("blind", Boolean, nullable=False),
    Column("language", String(8), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

disputes_table = Table(
    "disputes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(128), nullable=False, index=True),
    Column("checklist_id", String(64), nullable=False),
    Column("item_id", String(64), nullable=False),
    Column("agent", String(128), nullable=False),
    Column("raised_by", String(64), nullable=False),
    Column("reason", String, nullable=False),
    Column("disputed_answer", JSON, nullable=True),
    Column("status", String(16), nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decision_comment", String, nullable=True),
    Column("answer", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
)

acknowledgements_table = Table(
    "acknowledgements",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("checklist_id", String(64), primary_key=True),
    Column("agent", String(128), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

calibration_sessions_table = Table(
    "calibration_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("calls", JSON, nullable=False),
    Column("controllers", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

coaching_notes_table = Table(
    "coaching_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agent", String(128), nullable=False, index=True),
    Column("author", String(64), nullable=False),
    Column("items", JSON, nullable=False),
    Column("text", String, nullable=False),
    Column("acknowledged", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
)

gate_reports_table = Table(
    "gate_reports",
    metadata,
    # What `qa-pipeline evaluate` found about a change, for the workspace's page: the report as JSON.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("checklists", JSON, nullable=False),
    Column("judge", JSON, nullable=False),
    Column("report", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

survey_answers_table = Table(
    "survey_answers",
    metadata,
    # One row per answer: keyed by what it is about, so importing a file again changes nothing.
    Column("key", String(64), primary_key=True),
    Column("call_id", String(128), nullable=True, index=True),
    Column("customer_id", String(128), nullable=True),
    Column("date", String(32), nullable=True),
    Column("csat", Float, nullable=True),
    Column("nps", Float, nullable=True),
    Column("ces", Float, nullable=True),
    Column("source", String, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

team_enps_table = Table(
    "team_enps",
    metadata,
    Column("team", String(128), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("enps", Float, nullable=False),
    Column("source", String, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

voc_records_table = Table(
    "voc_records",
    metadata,
    # Each conversation's voice-of-the-customer fields; the key names transcript, taxonomy, model, prompt.
    Column("call_id", String(128), primary_key=True),
    Column("cache_key", String(64), nullable=False),
    Column("record", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

claims_table = Table(
    "claims",
    metadata,
    # A unit of work (a call, or a call and checklist) one worker is doing now; deleted when done.
    Column("stage", String(16), primary_key=True),
    Column("work_key", String(300), primary_key=True),
    Column("worker", String(256), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("detail", String(300), nullable=True),  # what the holder does it with: its cache key
)

Stage = Literal["transcribe", "score"]
# A live worker renews its claims every HEARTBEAT_SECONDS, so a lease only has to outlast a few missed
# beats: a dead worker's claims free up within minutes, and work of any length is never done twice.
DEFAULT_LEASE_SECONDS = 300.0
HEARTBEAT_SECONDS = 30.0


@dataclass(frozen=True)
class Claim:
    """The answer to a claim: true when this worker won it; else who holds it, until when, doing what."""

    won: bool
    holder: str | None = None
    expires_at: datetime | None = None
    detail: str | None = None

    def __bool__(self) -> bool:
        return self.won


class CallIdTaken(StoreError):
    """A call id is stored for another recording: storing this one under it would merge two calls."""


class CallRecord(BaseModel):
    """A call's recording and metadata, without its transcript: small enough to hold for every call."""

    call_id: str
    audio_path: str
    duration: float
    metadata: CallMetadata


class ReviewImport(BaseModel):
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def transcript_cache_key(audio_sha256: str, model: str, options: dict[str, Any]) -> str:
    """Same audio, model and output-affecting options give the same key, whatever the call is named."""
    payload = json.dumps({"audio": audio_sha256, "model": model, "options": options}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class Store:
    def __init__(
        self,
        location: str | Path = DEFAULT_STORE,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        url = str(location)
        if "://" not in url:
            path = Path(url)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path}: cannot create the store's folder ({exc})") from exc
            url = f"sqlite:///{path}"
        self.url = url
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self._heartbeat: threading.Thread | None = None
        # SQLite writes one transaction at a time: threads of one process (the workspace server's) queue
        # here instead of polling the file lock, which adds up to 100 ms sleeps under load.
        self._sqlite_writes = threading.RLock()
        self._stopping = threading.Event()
        try:
            # pre-ping: a connection the server or a firewall dropped while idle is replaced, not fatal
            self.engine: Engine = create_engine(url, pool_pre_ping=True)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            upgrade_schema(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open store {location}: {exc}") from exc

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def _one_writer(self) -> Iterator[None]:
        if not self.is_sqlite:
            yield
            return
        with self._sqlite_writes:
            yield

    @contextmanager
    def exclusive_writer(self) -> Iterator[None]:
        """SQLite takes one writing run at a time: a second is refused with a clear message instead of
        waiting on locks. The lock is the operating system's, so a killed run never leaves it behind.
        PostgreSQL stores take any number of runs, which share the work through claims."""
        if not self.is_sqlite:
            yield
            return
        path = Path(self.engine.url.database or "")
        with open(f"{path}.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise StoreError(
                    f"{path}: another qa-pipeline run ({holder}) is writing to this store; SQLite takes "
                    "one writer at a time. Wait for it, or use a PostgreSQL store (--store "
                    "postgresql+psycopg://...) to run several workers on one run."
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(worker_name())
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def now(self, conn: Connection | None = None) -> datetime:
        """The database's clock where workers share a server (leases and "newest" must not depend on each
        machine's clock); on SQLite, whose one writer is this machine, this machine's (finer) clock."""
        if self.is_sqlite:
            return datetime.now(UTC)
        if conn is None:
            with self.engine.connect() as own:
                return self.now(own)
        value = conn.execute(select(func.now())).scalar_one()
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def claim(self, stage: Stage, work_key: str, detail: str | None = None) -> Claim:
        """Take a unit of work unless a live worker holds it. The row is locked while it is checked
        (`FOR UPDATE SKIP LOCKED` on PostgreSQL: a row another worker is claiming right now is skipped,
        not waited for), and taken over only if its holder is unchanged, so two workers never both win.
        A won claim is renewed by this store's heartbeat until it is released."""
        me = worker_name()
        table = claims_table
        key = (table.c.stage == stage) & (table.c.work_key == work_key)
        try:
            with self._one_writer(), self.engine.begin() as conn:
                now = self.now(conn)
                row = {
                    "stage": stage,
                    "work_key": work_key,
                    "worker": me,
                    "expires_at": now + timedelta(seconds=self.lease_seconds),
                    "detail": detail,
                }
                held = conn.execute(
                    select(table.c.worker, table.c.expires_at, table.c.detail)
                    .where(key)
                    .with_for_update(skip_locked=True)
                ).first()
                if held is None:
                    done = conn.execute(
                        self._insert(table).values(**row).on_conflict_do_nothing().returning(table.c.worker)
                    )
                    won = done.first() is not None  # not won: another worker is taking it right now
                else:
                    expires = _aware(held.expires_at)
                    if held.worker != me and expires > now and not holder_is_dead(held.worker):
                        return Claim(False, held.worker, expires, held.detail)
                    taken = conn.execute(
                        update(table)
                        .where(key, table.c.worker == held.worker, table.c.expires_at == held.expires_at)
                        .values(worker=me, expires_at=row["expires_at"], detail=detail)
                        .returning(table.c.worker)
                    )
                    won = taken.first() is not None
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot claim {stage} work in {self.url}: {exc}") from exc
        if won:
            self._keep_beating()
        return Claim(won)

    def release(self, stage: Stage, work_key: str) -> None:
        """Done (its result is stored) or given up: the claim goes."""
        table = claims_table
        try:
            with self._one_writer(), self.engine.begin() as conn:
                conn.execute(
                    delete(table).where(
                        table.c.stage == stage, table.c.work_key == work_key, table.c.worker == worker_name()
                    )
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot release {stage} work in {self.url}: {exc}") from exc

    def renew_claims(self) -> int:
        """Push back the lease of every claim this worker holds; returns how many it holds."""
        table = claims_table
        with self.engine.begin() as conn:
            until = self.now(conn) + timedelta(seconds=self.lease_seconds)
            done = conn.execute(update(table).where(table.c.worker == worker_name()).values(expires_at=until))
        return int(done.rowcount or 0)

    def _keep_beating(self) -> None:
        """Start the heartbeat on the first won claim; it runs until the store is closed or the process
        ends (a daemon thread), renewing whatever this worker holds at each beat."""
        if self._heartbeat is not None and self._heartbeat.is_alive():
            return
        self._heartbeat = threading.Thread(target=self._beat, name="qa-pipeline-claims", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stopping.wait(self.heartbeat_seconds):
            try:
                self.renew_claims()
            except SQLAlchemyError as exc:  # the next beat tries again; the lease covers a few misses
                logger.warning("could not renew claims in %s: %s", self.url, exc)

    def cached_transcript(self, cache_key: str) -> Transcript | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(transcripts_table.c.transcript)
                .where(transcripts_table.c.cache_key == cache_key)
                .limit(1)
            ).first()
        return Transcript.model_validate(row[0]) if row else None

    def check_call_id(self, call: Call) -> None:
        """Raise `CallIdTaken` when the call's id is stored for other audio, before any work is spent."""
        with self.engine.connect() as conn:
            _refuse_other_audio(conn, call)

    def save_transcript(
        self, cache_key: str, call: Call, transcript: Transcript, *, replace: bool = False
    ) -> None:
        """Call and transcript land together or not at all, and the transcript becomes the call's current
        one, also when it was stored already (a cache hit): after models X, Y, then X from cache, every
        reader sees X, like the JSON file the run wrote. An id stored for other audio is refused unless
        `replace` gives it to this recording."""
        call_row = {
            "call_id": call.call_id,
            "audio_path": call.audio_path,
            "audio_sha256": call.audio.sha256,
            "duration": call.audio.duration,
            "sample_rate": call.audio.sample_rate,
            "channels": call.audio.channels,
            "metadata": call.metadata.model_dump(),
        }
        transcript_row = {
            "cache_key": cache_key,
            "call_id": call.call_id,
            "audio_sha256": call.audio.sha256,
            "model": transcript.model,
            "options": transcript.options,
            "transcript": transcript.model_dump(mode="json"),
        }
        try:
            with self._one_writer(), self.engine.begin() as conn:
                if not replace:
                    _refuse_other_audio(conn, call)
                now = self.now(conn)
                conn.execute(self._upsert(calls_table, {**call_row, "updated_at": now}, ["call_id"]))
                conn.execute(
                    self._upsert(
                        transcripts_table, {**transcript_row, "created_at": now}, ["cache_key", "call_id"]
                    )
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save transcript of {call.call_id} to {self.url}: {exc}") from exc

    def transcribed_since(self, call_id: str, audio_sha256: str, since: datetime) -> Transcript | None:
        """The call's transcript of this audio stored at or after `since` (by any worker, with any model):
        how a worker sees that another one in the same run did the call already."""
        table = transcripts_table
        with self.engine.connect() as conn:
            row = conn.execute(
                select(table.c.transcript)
                .where(
                    table.c.call_id == call_id,
                    table.c.audio_sha256 == audio_sha256,
                    table.c.created_at >= since,
                )
                .order_by(table.c.created_at.desc())
                .limit(1)
            ).first()
        return Transcript.model_validate(row[0]) if row else None

    def scored_since(self, call_id: str, checklist_id: str, since: datetime) -> Scorecard | None:
        """The call's scorecard for this checklist stored at or after `since`, by any worker and judge."""
        table = scorecards_table
        with self.engine.connect() as conn:
            row = conn.execute(
                select(table.c.scorecard)
                .where(
                    table.c.call_id == call_id,
                    table.c.checklist_id == checklist_id,
                    table.c.created_at >= since,
                )
                .where(~table.c.cache_key.startswith("failed:"))
                .order_by(table.c.created_at.desc())
                .limit(1)
            ).first()
        return Scorecard.model_validate(row[0]) if row else None

    def transcripts(self, call_ids: Iterable[str] | None = None) -> Iterator[Transcript]:
        """The newest transcript of every call, or of the given calls only, in call id order, read lazily."""
        table = transcripts_table
        return self._newest(Transcript, table.c.transcript, [table.c.call_id], call_ids)

    def transcript_count(self, call_ids: Iterable[str] | None = None) -> int:
        """Calls with a transcript (among the given calls): what `transcripts` will yield, counted in SQL."""
        column = transcripts_table.c.call_id
        query = select(func.count(func.distinct(column)))
        with self.engine.connect() as conn:
            if call_ids is None:
                return int(conn.execute(query).scalar_one())
            return sum(
                int(conn.execute(query.where(column.in_(chunk))).scalar_one()) for chunk in _chunks(call_ids)
            )

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
        }
        try:
            with self._one_writer(), self.engine.begin() as conn:
                conn.execute(
                    self._upsert(scorecards_table, {**row, "created_at": self.now(conn)}, ["cache_key"])
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save scorecard of {scorecard.call_id} to {self.url}: {exc}") from exc

    def mark_current(self, cache_key: str) -> None:
        """A reused scorecard becomes the call's newest again: after judges X, Y, then X from cache, every
        reader (sampling, calibration) sees X's verdicts, like the JSON files the run wrote."""
        try:
            with self._one_writer(), self.engine.begin() as conn:
                conn.execute(
                    update(scorecards_table)
                    .where(scorecards_table.c.cache_key == cache_key)
                    .values(created_at=self.now(conn))
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot update scorecard {cache_key[:12]} in {self.url}: {exc}") from exc

    def scorecards(self, call_ids: Iterable[str] | None = None) -> Iterator[Scorecard]:
        """The newest scorecard of every call (or of the given calls) for every checklist it was scored
        against, in (call id, checklist id) order, read lazily."""
        table = scorecards_table
        return self._newest(Scorecard, table.c.scorecard, [table.c.call_id, table.c.checklist_id], call_ids)

    def _newest(
        self,
        model: type[M],
        payload: Column[Any],
        keys: list[Column[Any]],
        call_ids: Iterable[str] | None,
    ) -> Iterator[M]:
        """Rows are never deleted: a newer row for the same keys (a re-run, or a cached one made current
        again) wins, chosen in SQL so that only current rows leave the database. Equal times (a clock
        that did not move) go to the larger cache key, so every page agrees on which row is current."""
        table = payload.table
        newer = table.alias("newer")
        later = or_(
            newer.c.created_at > table.c.created_at,
            and_(newer.c.created_at == table.c.created_at, newer.c.cache_key > table.c.cache_key),
        )
        current = ~exists().where(*(newer.c[key.name] == key for key in keys), later)
        query = select(*keys, payload).where(current)
        for row in self._pages(query, keys, call_ids):
            yield model.model_validate(row[-1])

    def calls(self, call_ids: Iterable[str] | None = None) -> Iterator[CallRecord]:
        """Every call (or the given ones) in call id order, read lazily."""
        table = calls_table
        query = select(table.c.call_id, table.c.audio_path, table.c.duration, table.c.metadata)
        for call_id, path, duration, meta in self._pages(query, [table.c.call_id], call_ids):
            yield CallRecord(
                call_id=call_id, audio_path=path, duration=duration, metadata=CallMetadata(**meta)
            )

    def call_records(self, call_ids: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Audio path, duration and metadata by call id, for callers that look calls up (review sheets,
        audio muting); a small record per call, no transcript."""
        return {
            record.call_id: {
                "audio_path": record.audio_path,
                "duration": record.duration,
                "metadata": record.metadata,
            }
            for record in self.calls(call_ids)
        }

    def _pages(
        self, query: Select[Any], keys: list[Column[Any]], call_ids: Iterable[str] | None
    ) -> Iterator[Any]:
        """The query's rows in key order, a page at a time: each page starts after the last key seen
        (keyset pagination), so no page costs more than the first and no connection is held between
        pages. Given call ids are sorted and sent in chunks."""
        chunks: Iterable[list[str] | None] = [None] if call_ids is None else _chunks(call_ids)
        for chunk in chunks:
            bounded = query if chunk is None else query.where(keys[0].in_(chunk))
            after: tuple[Any, ...] | None = None
            while True:
                page = bounded.order_by(*keys).limit(PAGE_ROWS)
                if after is not None:
                    page = page.where(tuple_(*keys) > tuple_(*after))
                try:
                    with self.engine.connect() as conn:
                        rows = conn.execute(page).all()
                except SQLAlchemyError as exc:
                    raise StoreError(f"cannot read {keys[0].table} from {self.url}: {exc}") from exc
                yield from rows
                if len(rows) < PAGE_ROWS:
                    break
                after = tuple(rows[-1][: len(keys)])

    def save_reviews(self, reviews: list[HumanReview]) -> ReviewImport:
        """Upsert reviews in one transaction; importing the same sheet twice changes nothing."""
        counts = ReviewImport()
        table = human_reviews_table
        try:
            with self._one_writer(), self.engine.begin() as conn:
                for review in reviews:
                    existing = conn.execute(
                        select(table.c.answer, table.c.comment).where(
                            table.c.call_id == review.call_id,
                            table.c.checklist_id == review.checklist_id,
                            table.c.item_id == review.item_id,
                            table.c.reviewer == review.reviewer,
                        )
                    ).first()
                    if existing is not None and tuple(existing) == (review.answer, review.comment):
                        counts.unchanged += 1
                        continue
                    row = {**review.model_dump(), "updated_at": datetime.now(UTC)}
                    keys = ["call_id", "checklist_id", "item_id", "reviewer"]
                    conn.execute(self._upsert(table, row, keys))
                    if existing is None:
                        counts.inserted += 1
                    else:
                        counts.updated += 1
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save reviews to {self.url}: {exc}") from exc
        return counts

    def human_reviews(
        self, call_ids: Iterable[str] | None = None, reviewer: str | None = None
    ) -> list[HumanReview]:
        """Every review, or those of some calls or of one reviewer."""
        equal = {"reviewer": reviewer} if reviewer is not None else {}
        return self._models(human_reviews_table, HumanReview, call_ids=call_ids, equal=equal)

    def add_override(self, override: Override) -> None:
        try:
            with self._one_writer(), self.engine.begin() as conn:
                conn.execute(
                    overrides_table.insert().values(**override.model_dump(), created_at=datetime.now(UTC))
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save override of {override.call_id} to {self.url}: {exc}") from exc

    def overrides(self, call_ids: Iterable[str] | None = None) -> list[Override]:
        """Every override (or those of some calls), oldest first for each call: the last one for an item is
        the one in force (a call's overrides are all in one chunk, read in id order)."""
        return self._models(overrides_table, Override, order_by=overrides_table.c.id, call_ids=call_ids)

    def save_sample(
        self, sample_id: str, picks: list[SamplePick], keep: set[tuple[str, str]] | None = None
    ) -> None:
        """A sample planned again under the same id (period and seed) replaces the earlier plan, except
        the earlier picks of calls in `keep` (already reviewed): they stay as they were picked, random or
        risk, so the random baseline does not lose the calls people have scored."""
        keep = keep or set()
        now = datetime.now(UTC)
        table = sample_picks_table
        try:
            with self._one_writer(), self.engine.begin() as conn:
                earlier = {
                    (row.call_id, row.checklist_id)
                    for row in conn.execute(
                        select(table.c.call_id, table.c.checklist_id).where(table.c.sample_id == sample_id)
                    )
                }
                for call_id, checklist_id in earlier - keep:
                    conn.execute(
                        delete(table).where(
                            table.c.sample_id == sample_id,
                            table.c.call_id == call_id,
                            table.c.checklist_id == checklist_id,
                        )
                    )
                for pick in picks:
                    if (pick.call_id, pick.checklist_id) in earlier & keep:
                        continue
                    row = {"sample_id": sample_id, **pick.model_dump(), "created_at": now}
                    conn.execute(self._upsert(table, row, ["sample_id", "call_id", "checklist_id"]))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save sample {sample_id} to {self.url}: {exc}") from exc

    def sample_picks(self, call_ids: Iterable[str] | None = None) -> list[SamplePick]:
        return self._models(sample_picks_table, SamplePick, call_ids=call_ids)

    def save_user(self, user: User, password_hash: str | None = None) -> None:
        """Add or change a user; without `password_hash` an existing user keeps their password."""
        table = users_table
        row: dict[str, Any] = {**user.model_dump(), "updated_at": datetime.now(UTC)}
        try:
            with self._one_writer(), self.engine.begin() as conn:
                if password_hash is None:
                    changed = conn.execute(update(table).where(table.c.name == user.name).values(**row))
                    if changed.rowcount == 0:
                        raise StoreError(f"user {user.name!r} does not exist: a new user needs a password")
                    return
                conn.execute(self._upsert(table, {**row, "password_hash": password_hash}, ["name"]))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save user {user.name!r} to {self.url}: {exc}") from exc

    def user_with_hash(self, name: str) -> tuple[User, str] | None:
        columns = [users_table.c[field] for field in User.model_fields]
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*columns, users_table.c.password_hash).where(users_table.c.name == name)
            ).first()
        if row is None:
            return None
        values = dict(row._mapping)
        password_hash = values.pop("password_hash")
        return User.model_validate(values), password_hash

    def delete_user(self, name: str) -> bool:
        try:
            with self._one_writer(), self.engine.begin() as conn:
                return bool(conn.execute(delete(users_table).where(users_table.c.name == name)).rowcount)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot remove user {name!r} from {self.url}: {exc}") from exc

    def users(self) -> list[User]:
        return self._models(users_table, User, order_by=users_table.c.name)

    def add_dispute(self, dispute: Dispute) -> Dispute:
        row = {**dispute.model_dump(exclude={"id"}), "created_at": datetime.now(UTC)}
        try:
            with self._one_writer(), self.engine.begin() as conn:
                key = conn.execute(disputes_table.insert().values(**row)).inserted_primary_key
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save a dispute of {dispute.call_id} to {self.url}: {exc}") from exc
        assert key is not None
        return dispute.model_copy(update={"id": key[0]})

    def disputes(
        self, call_ids: Iterable[str] | None = None, status: DisputeStatus | None = None
    ) -> list[Dispute]:
        """Disputes oldest first, of some calls or all."""
        equal: dict[str, str] = {"status": status} if status is not None else {}
        disputes = self._models(disputes_table, Dispute, disputes_table.c.id, call_ids, equal)
        return sorted(disputes, key=lambda d: d.id or 0)  # ids in chunks read are in order chunk by chunk

    def decide_dispute(
        self, decided: Dispute, override: Override | None = None, review: HumanReview | None = None
    ) -> bool:
        """Record a supervisor's decision, with the override and the human answer an overturn makes, in
        one transaction; false when the dispute was no longer open (two supervisors deciding at once)."""
        table = disputes_table
        now = datetime.now(UTC)
        try:
            with self._one_writer(), self.engine.begin() as conn:
                changed = conn.execute(
                    update(table)
                    .where(table.c.id == decided.id, table.c.status == "open")
                    .values(
                        status=decided.status,
                        decided_by=decided.decided_by,
                        decision_comment=decided.decision_comment,
                        answer=decided.answer,
                        decided_at=now,
                    )
                )
                if changed.rowcount != 1:
                    return False
                if override is not None:
                    conn.execute(overrides_table.insert().values(**override.model_dump(), created_at=now))
                if review is not None:
                    row = {**review.model_dump(), "updated_at": now}
                    keys = ["call_id", "checklist_id", "item_id", "reviewer"]
                    conn.execute(self._upsert(human_reviews_table, row, keys))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot decide dispute {decided.id} in {self.url}: {exc}") from exc
        return True

    def acknowledge(self, acknowledgement: Acknowledgement) -> None:
        row = {**acknowledgement.model_dump(), "created_at": datetime.now(UTC)}
        try:
            with self._one_writer(), self.engine.begin() as conn:
                conn.execute(self._insert(acknowledgements_table).values(**row).on_conflict_do_nothing())
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save an acknowledgement to {self.url}: {exc}") from exc

    def acknowledgements(self, call_ids: Iterable[str] | None = None) -> list[Acknowledgement]:
        return self._models(acknowledgements_table, Acknowledgement, call_ids=call_ids)

    def add_calibration_session(self, session: CalibrationSession) -> CalibrationSession:
        row = {**session.model_dump(exclude={"id"}), "created_at": datetime.now(UTC)}
        try:
            with self._one_writer(), self.engine.begin() as conn:
                key = conn.execute(calibration_sessions_table.insert().values(**row)).inserted_primary_key
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot save calibration session {session.name!r} to {self.url}: {exc}"
            ) from exc
        assert key is not None
        return session.model_copy(update={"id": key[0]})

    def calibration_sessions(self) -> list[CalibrationSession]:
        table = calibration_sessions_table
        return self._models(table, CalibrationSession, order_by=table.c.id)

    def add_coaching_note(self, note: CoachingNote) -> CoachingNote:
        row = {**note.model_dump(exclude={"id"}), "created_at": datetime.now(UTC)}
        try:
            with self._one_writer(), self.engine.begin() as conn:
                key = conn.execute(coaching_notes_table.insert().values(**row)).inserted_primary_key
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save a coaching note for {note.agent} to {self.url}: {exc}") from exc
        assert key is not None
        return note.model_copy(update={"id": key[0]})

    def coaching_notes(self, agent: str | None = None) -> list[CoachingNote]:
        equal = {"agent": agent} if agent is not None else {}
        return self._models(coaching_notes_table, CoachingNote, coaching_notes_table.c.id, equal=equal)

    def acknowledge_coaching_note(self, note_id: int, agent: str) -> bool:
        """False when the note is not this agent's (nothing is changed then)."""
        table = coaching_notes_table
        try:
            with self._one_writer(), self.engine.begin() as conn:
                changed = conn.execute(
                    update(table)
                    .where(table.c.id == note_id, table.c.agent == agent, table.c.acknowledged.is_(False))
                    .values(acknowledged=True, acknowledged_at=datetime.now(UTC))
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot acknowledge coaching note {note_id} in {self.url}: {exc}") from exc
        return changed.rowcount == 1 or any(
            n.id == note_id and n.acknowledged for n in self.coaching_notes(agent)
        )

    def add_gate_report(self, checklists: list[str], judge: dict[str, str], report: dict[str, Any]) -> None:
        row = {"checklists": checklists, "judge": judge, "report": report, "created_at": datetime.now(UTC)}
        try:
            with self._one_writer(), self.engine.begin() as conn:
                conn.execute(gate_reports_table.insert().values(**row))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save the gate's report to {self.url}: {exc}") from exc

    def gate_reports(self, newest: int = 20) -> list[dict[str, Any]]:
        """The newest reports first, each with when, which checklists and which judge."""
        table = gate_reports_table
        query = select(table).order_by(table.c.id.desc()).limit(newest)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def save_outcomes(self, surveys: list[SurveyAnswer], enps: list[TeamEnps]) -> ReviewImport:
        """Upsert survey answers (keyed by call or customer and date) and eNPS (by team and period)."""
        counts = ReviewImport()
        now = datetime.now(UTC)
        try:
            with self._one_writer(), self.engine.begin() as conn:
                for survey in surveys:
                    about = json.dumps([survey.call_id, survey.customer_id, survey.date])
                    row = {**survey.model_dump(), "key": hashlib.sha256(about.encode()).hexdigest()}
                    counts = self._counted(conn, survey_answers_table, row, ["key"], counts, now)
                for team in enps:
                    counts = self._counted(
                        conn, team_enps_table, team.model_dump(), ["team", "period"], counts, now
                    )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save outcomes to {self.url}: {exc}") from exc
        return counts

    def _counted(
        self,
        conn: Connection,
        table: Table,
        row: dict[str, Any],
        keys: list[str],
        counts: ReviewImport,
        now: datetime,
    ) -> ReviewImport:
        where = and_(*(table.c[k] == row[k] for k in keys))
        existing = conn.execute(select(*(table.c[name] for name in row)).where(where)).first()
        if existing is not None and dict(existing._mapping) == row:
            return counts.model_copy(update={"unchanged": counts.unchanged + 1})
        conn.execute(self._upsert(table, {**row, "updated_at": now}, keys))
        field = "inserted" if existing is None else "updated"
        return counts.model_copy(update={field: getattr(counts, field) + 1})

    def voc_cache_key(self, call_id: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(voc_records_table.c.cache_key).where(voc_records_table.c.call_id == call_id)
            ).first()
        return None if row is None else str(row[0])

    def save_voc(self, call_id: str, cache_key: str, record: dict[str, Any]) -> None:
        row = {"call_id": call_id, "cache_key": cache_key, "record": record, "created_at": datetime.now(UTC)}
        try:
            with self._one_writer(), self.engine.begin() as conn:
                conn.execute(self._upsert(voc_records_table, row, ["call_id"]))
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot save the voice of the customer of {call_id} to {self.url}: {exc}"
            ) from exc

    def voc_records(self, call_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Each conversation's record as saved (the VoC stage's `VocRecord`, as JSON)."""
        query = select(voc_records_table.c.call_id, voc_records_table.c.record).order_by(
            voc_records_table.c.call_id
        )
        with self.engine.connect() as conn:
            if call_ids is None:
                return [dict(r.record) for r in conn.execute(query)]
            return [
                dict(r.record)
                for chunk in _chunks(call_ids)
                for r in conn.execute(query.where(voc_records_table.c.call_id.in_(chunk)))
            ]

    def survey_answers(self) -> list[SurveyAnswer]:
        return self._models(survey_answers_table, SurveyAnswer)

    def has_customer_data(self) -> bool:
        """Whether any VoC record, survey answer or eNPS is stored: the report's VoC section needs one."""
        with self.engine.connect() as conn:
            return any(
                conn.execute(select(table.c[column]).limit(1)).first() is not None
                for table, column in (
                    (voc_records_table, "call_id"),
                    (survey_answers_table, "key"),
                    (team_enps_table, "team"),
                )
            )

    def team_enps(self) -> list[TeamEnps]:
        return self._models(team_enps_table, TeamEnps)

    def _models(
        self,
        table: Table,
        model: type[M],
        order_by: Column[Any] | None = None,
        call_ids: Iterable[str] | None = None,
        equal: dict[str, str] | None = None,
    ) -> list[M]:
        """Rows as the pydantic model whose fields name the table's columns; only those of `call_ids`
        (read in chunks) and with the columns in `equal` at the given values, when given."""
        query = select(*(table.c[name] for name in model.model_fields))
        for column, value in (equal or {}).items():
            query = query.where(table.c[column] == value)
        if order_by is not None:
            query = query.order_by(order_by)
        with self.engine.connect() as conn:
            if call_ids is None:
                rows = conn.execute(query).all()
            else:
                rows = [
                    r
                    for chunk in _chunks(call_ids)
                    for r in conn.execute(query.where(table.c.call_id.in_(chunk)))
                ]
        return [model.model_validate(dict(row._mapping)) for row in rows]

    def _insert(self, table: Table) -> Any:
        """The dialect's INSERT, which has ON CONFLICT."""
        return sqlite_insert(table) if self.is_sqlite else pg_insert(table)

    def _upsert(self, table: Table, row: dict[str, Any], keys: list[str]) -> Any:
        statement = self._insert(table).values(**row)
        updates = {name: statement.excluded[name] for name in row if name not in keys}
        return statement.on_conflict_do_update(index_elements=keys, set_=updates)

    def close(self) -> None:
        self._stopping.set()
        self.engine.dispose()


def _chunks(call_ids: Iterable[str]) -> Iterator[list[str]]:
    """Distinct ids, sorted, `PAGE_ROWS` at a time: each chunk is one bounded `IN (...)` list."""
    ordered = sorted(set(call_ids))
    for start in range(0, len(ordered), PAGE_ROWS):
        yield ordered[start : start + PAGE_ROWS]


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _refuse_other_audio(conn: Connection, call: Call) -> None:
    """The same recording (same SHA-256) may come back under its id, from any path; other audio may not."""
    stored = conn.execute(
        select(calls_table.c.audio_path, calls_table.c.audio_sha256).where(
            calls_table.c.call_id == call.call_id
        )
    ).first()
    if stored is not None and stored.audio_sha256 != call.audio.sha256:
        raise CallIdTaken(
            f"{call.audio_path}: call id {call.call_id!r} is already stored for a different recording, "
            f"{stored.audio_path}; this one was not stored under it"
        )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
