"""Readers of a large store: lazy, a page at a time, each call's newest row chosen in SQL, id lists sent in
chunks; the report, sampling and exports built on them give the same answers as on whole lists."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from conftest import typed_transcript
from scored_store import fill_store
from sqlalchemy import event, insert

from qa_pipeline.control.sampling import Candidate, plan_sample, ranked_risks
from qa_pipeline.control.workflow import plan_review, record_override
from qa_pipeline.models import AudioInfo, Call, ItemVerdict, Scorecard
from qa_pipeline.report import exports
from qa_pipeline.report.data import build_report
from qa_pipeline.report.render import render_report
from qa_pipeline.report.text import TEXT
from qa_pipeline.store import database as store_module
from qa_pipeline.store.database import Store, calls_table, scorecards_table, transcripts_table

SMALL_PAGE = 7


def _call(call_id: str) -> Call:
    audio = AudioInfo(duration=10, sample_rate=8000, channels=2, codec="pcm_s16le", sha256="0" * 64)
    return Call(call_id=call_id, audio_path=f"/calls/{call_id}.wav", audio=audio)


def _card(call_id: str, checklist_id: str, answer: str) -> Scorecard:
    verdict = ItemVerdict(item_id="greeting", answer=answer)  # type: ignore[arg-type]
    return Scorecard(
        call_id=call_id,
        checklist_id=checklist_id,
        checklist_version="1",
        verdicts=[verdict],
        total=100.0 if answer == "yes" else 0.0,
        complete=True,
    )


def _selects(store: Store) -> list[str]:
    """Every SELECT the store's engine runs from now on."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    return seen


def test_readers_page_through_the_newest_version_of_each_call(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "PAGE_ROWS", SMALL_PAGE)
    store = Store(store_url)
    ids = [f"call-{i:03d}" for i in range(3 * SMALL_PAGE + 2)]  # pages end inside and at the last call
    for call_id in reversed(ids):
        for version in ("old", "mid", "new"):
            text = typed_transcript(("agent", f"{version} text")).model_copy(update={"call_id": call_id})
            store.save_transcript(f"t-{version}", _call(call_id), text)
            for checklist_id in ("b", "a"):
                store.save_scorecard(
                    f"{call_id}-{checklist_id}-{version}",
                    _card(call_id, checklist_id, "yes" if version == "new" else "no"),
                )
    store.mark_current(f"{ids[0]}-a-old")  # a cached older scorecard served again is current again
    selects = _selects(store)

    transcripts = store.transcripts()
    assert isinstance(transcripts, Iterator)
    first = next(transcripts)
    assert first.call_id == ids[0] and first.segments[0].text == "new text"
    assert len(selects) == 1 and "LIMIT" in selects[0].upper()  # one page read, not the table
    rest = list(transcripts)
    assert [t.call_id for t in [first, *rest]] == ids
    assert {t.segments[0].text for t in rest} == {"new text"}
    assert len(selects) == len(ids) // SMALL_PAGE + 1

    cards = list(store.scorecards())
    assert [(c.call_id, c.checklist_id) for c in cards] == [(i, cl) for i in ids for cl in ("a", "b")]
    assert [c.verdicts[0].answer for c in cards[:3]] == ["no", "yes", "yes"]
    assert {c.verdicts[0].answer for c in cards[2:]} == {"yes"}

    some = ids[SMALL_PAGE - 1 : 2 * SMALL_PAGE + 3]
    assert [t.call_id for t in store.transcripts(reversed(some))] == some
    assert [r.call_id for r in store.calls([*some, "unknown"])] == some
    assert store.transcript_count() == len(ids) and store.transcript_count([*some, "unknown"]) == len(some)


def test_an_id_list_longer_than_a_statement_takes(store_url: str) -> None:
    """70,000 calls asked for by id: more than psycopg's 65,535 parameters in one statement, and than
    SQLite's 32,766 as SQLite builds it by default (Python's own allows 250,000; the test sets the
    default). Every call is stored, a transcript and scorecard for one in ten (reading 70,000 of each
    would only make the test slow)."""
    store = Store(store_url)
    if store.is_sqlite:
        event.listen(store.engine, "connect", _default_sqlite_variable_limit)
        store.engine.dispose()
    now = datetime.now(UTC)
    transcript = typed_transcript(("agent", "hello")).model_dump(mode="json")
    card = _card("", "a", "yes").model_dump(mode="json")
    ids = [f"c{i:06d}" for i in range(70_000)]
    worked = ids[::10]
    with store.engine.begin() as conn:  # rows written in bulk: saving 70,000 calls one by one takes minutes
        conn.execute(
            insert(calls_table),
            [
                {"call_id": i, "audio_path": "", "audio_sha256": "0" * 64, "duration": 1.0, "sample_rate": 0,
                 "channels": 0, "metadata": {}, "updated_at": now}
                for i in ids
            ],
        )  # fmt: skip
        conn.execute(
            insert(transcripts_table),
            [
                {"cache_key": "k", "call_id": i, "audio_sha256": "0" * 64, "model": "m", "options": {},
                 "transcript": transcript | {"call_id": i}, "created_at": now}
                for i in worked
            ],
        )  # fmt: skip
        conn.execute(
            insert(scorecards_table),
            [
                {"cache_key": i, "call_id": i, "checklist_id": "a", "checklist_version": "1", "judge": {},
                 "scorecard": card | {"call_id": i}, "created_at": now}
                for i in worked
            ],
        )  # fmt: skip
    wanted = [*ids, "not-stored"]
    assert [t.call_id for t in store.transcripts(wanted)] == worked
    assert [c.call_id for c in store.scorecards(wanted)] == worked
    assert len(store.call_records(wanted)) == len(ids)
    assert store.transcript_count(wanted) == len(worked)


def _default_sqlite_variable_limit(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)


def test_a_report_details_max_calls_and_counts_every_call(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    checklists = fill_store(store, changes={("en04_rude_agent", "greeting"): "yes"}, with_text=True)
    everything = build_report(store, checklists, max_calls=1000)
    shown = build_report(store, checklists, max_calls=3)
    assert everything.overview.calls == shown.overview.calls == 12
    assert len(everything.calls) == 12 and everything.calls_left_out == 0
    assert len(shown.calls) == 3 and shown.calls_left_out == 9
    assert shown.calls == everything.calls[:3]  # the calls needing attention most, read in full
    assert shown.model_dump(exclude={"calls", "calls_left_out"}) == everything.model_dump(
        exclude={"calls", "calls_left_out"}
    )
    html = render_report(shown, tmp_path / "report.html")
    assert f"9 {TEXT['en']['left_out']}" in html
    assert html.count('<article class="call"') == 3


def test_sampling_from_slim_candidates_picks_as_from_whole_scorecards(tmp_path: Path) -> None:
    """Candidates keep only the verdicts ranking finds a reason in: here the corrected item of every
    English call, and nothing of a call without reasons."""
    store = Store(tmp_path / "qa.sqlite")
    checklists = fill_store(store, changes={("en01_billing_exemplary", "greeting"): "no"})
    record_override(
        store, checklists, call_id="en01_billing_exemplary", item_id="greeting", answer="yes",
        supervisor="sv", comment="heard it",
    )  # fmt: skip
    plan = plan_review(store, checklists, controllers=["ann", "bob"], size=4, seed=5)
    records = store.call_records()
    whole = [Candidate(scorecard=c, metadata=records[c.call_id]["metadata"]) for c in store.scorecards()]
    assert plan.population == len(whole)
    reasons = [ranked_risks(c.scorecard, plan.options) for c in whole]
    assert any("often corrected: greeting (1)" in r for found in reasons for _, r in found)
    assert not all(reasons)
    assert any(pick.kind == "risk" for pick in plan.picks)
    assert plan_sample(whole, plan.options) == plan.picks


def test_parquet_is_written_a_row_group_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "PARQUET_ROWS", 5)
    store = Store(tmp_path / "qa.sqlite")
    checklists = fill_store(store, with_text=True)
    written = exports.export_tables(store, checklists, tmp_path / "parquet", "parquet")
    path, rows = written["segments"]
    parquet = pq.ParquetFile(path)
    assert rows > 10 and parquet.metadata.num_rows == rows and parquet.num_row_groups == -(-rows // 5)
    assert pq.read_table(written["overrides"][0]).num_rows == 0  # an empty table keeps its columns
    assert list(written) == list(exports.TABLES)
