"""Call identity and current versions in the store: one id is one recording across runs, and the version
a run serves (fresh or from cache) is the one every reader sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from conftest import typed_transcript, write_wav
from typer.testing import CliRunner

from qa_pipeline.cli import app
from qa_pipeline.models import AudioInfo, Call, ItemVerdict, Scorecard, Transcript
from qa_pipeline.store.database import CallIdTaken, Store
from qa_pipeline.transcription.batch import CallResult, transcribe_batch
from qa_pipeline.transcription.ingest import IdFrom, discover_inputs
from qa_pipeline.transcription.transcribe import TranscribeOptions, Transcriber

DAY1, DAY2 = "2026-10-01", "2026-10-02"
TINY = ["--whisper-model", "bundled:tiny.en", "--language", "en", "--device", "cpu"]


def stored_call(call_id: str, path: str, sha256: str) -> tuple[Call, Transcript]:
    audio = AudioInfo(duration=10, sample_rate=8000, channels=2, codec="pcm_s16le", sha256=sha256)
    transcript = typed_transcript(("agent", f"recorded at {path}"))
    return Call(call_id=call_id, audio_path=path, audio=audio), transcript.model_copy(
        update={"call_id": call_id, "audio_sha256": sha256}
    )


def test_an_id_stored_for_other_audio_is_refused_naming_both_files(store_url: str) -> None:
    store = Store(store_url)
    day1, day1_text = stored_call("0001", f"/calls/{DAY1}/0001.wav", "1" * 64)
    day2, day2_text = stored_call("0001", f"/calls/{DAY2}/0001.wav", "2" * 64)
    store.save_transcript("k1", day1, day1_text)
    with pytest.raises(CallIdTaken) as refused:
        store.save_transcript("k2", day2, day2_text)
    assert f"/calls/{DAY2}/0001.wav: call id '0001' is already stored for a different recording, " in str(
        refused.value
    )
    assert f"/calls/{DAY1}/0001.wav" in str(refused.value)
    assert list(store.transcripts()) == [day1_text]
    assert store.call_records()["0001"]["audio_path"] == f"/calls/{DAY1}/0001.wav"

    moved, _ = stored_call("0001", "/archive/0001.wav", "1" * 64)  # the same recording, moved: a resume
    store.save_transcript("k1", moved, day1_text)
    assert store.call_records()["0001"]["audio_path"] == "/archive/0001.wav"

    store.save_transcript("k2", day2, day2_text, replace=True)
    assert list(store.transcripts()) == [day2_text]
    assert store.call_records()["0001"]["audio_path"] == f"/calls/{DAY2}/0001.wav"


def test_scorecards_stay_current_per_call_and_checklist(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")

    def card(checklist: str, answer: Literal["yes", "no"]) -> Scorecard:
        verdict = ItemVerdict(item_id="greeting", answer=answer)
        return Scorecard(
            call_id="c1",
            checklist_id=checklist,
            checklist_version="1",
            verdicts=[verdict],
            total=0,
            complete=True,
        )

    store.save_scorecard("a-judge-x", card("a", "yes"))
    store.save_scorecard("b-judge-x", card("b", "yes"))
    store.save_scorecard("a-judge-y", card("a", "no"))
    assert [(c.checklist_id, c.verdicts[0].answer) for c in store.scorecards()] == [("a", "no"), ("b", "yes")]
    store.mark_current("a-judge-x")
    assert [(c.checklist_id, c.verdicts[0].answer) for c in store.scorecards()] == [
        ("a", "yes"),
        ("b", "yes"),
    ]


@pytest.fixture
def two_days(tmp_path: Path) -> Path:
    """calls/<day>/0001.wav on two days: different recordings with the same file name."""
    root = tmp_path / "calls"
    for day, pitch in ((DAY1, 300.0), (DAY2, 500.0)):
        (root / day).mkdir(parents=True)
        seconds = np.arange(16000 * 2) / 16000
        write_wav(root / day / "0001.wav", 0.2 * np.sin(2 * np.pi * pitch * seconds), 16000)
    return root


def transcribe(
    inputs: list[Path], transcriber: Transcriber, store: Store, out: Path, **options: bool
) -> list[CallResult]:
    id_from: IdFrom = "path" if options.pop("ids_from_paths", False) else "stem"
    found = discover_inputs(inputs, id_from)
    assert found.problems == []
    return list(transcribe_batch(found.sources, transcriber, store, out, **options))


def test_a_later_run_cannot_take_an_earlier_calls_id(
    two_days: Path, tmp_path: Path, tiny_transcriber: Transcriber
) -> None:
    store, out = Store(tmp_path / "qa.sqlite"), tmp_path / "transcripts"
    [first] = transcribe([two_days / DAY1], tiny_transcriber, store, out)
    written = (out / "0001.json").read_text()
    [second] = transcribe([two_days / DAY2], tiny_transcriber, store, out)
    assert (first.status, second.status) == ("transcribed", "failed")
    assert str(two_days / DAY1 / "0001.wav") in (second.reason or "")
    assert str(two_days / DAY2 / "0001.wav") in (second.reason or "")
    assert (out / "0001.json").read_text() == written  # day 1's file is not overwritten either
    assert [Path(r["audio_path"]).parent.name for r in store.call_records().values()] == [DAY1]

    [replaced] = transcribe([two_days / DAY2], tiny_transcriber, store, out, replace=True)
    assert replaced.status == "transcribed"
    [current] = store.transcripts()
    assert current.audio_sha256 != json.loads(written)["audio_sha256"]
    assert Transcript.model_validate_json((out / "0001.json").read_text()) == current


def test_ids_from_paths_keep_both_days_apart(
    two_days: Path, tmp_path: Path, tiny_transcriber: Transcriber
) -> None:
    store, out = Store(tmp_path / "qa.sqlite"), tmp_path / "transcripts"
    results = transcribe([two_days], tiny_transcriber, store, out, ids_from_paths=True)
    assert [(r.call_id, r.status) for r in results] == [
        (f"{DAY1}/0001", "transcribed"),
        (f"{DAY2}/0001", "transcribed"),
    ]
    assert [t.call_id for t in store.transcripts()] == [f"{DAY1}/0001", f"{DAY2}/0001"]
    for result in results:
        assert Path(result.output or "") == out / f"{result.call_id}.json"
        assert Transcript.model_validate_json(Path(result.output or "").read_text()).call_id == result.call_id


def test_a_cached_transcript_becomes_the_current_one(two_days: Path, tmp_path: Path) -> None:
    """Without redaction, with it, then both again from cache: readers get what the last run wrote."""
    store, out = Store(tmp_path / "qa.sqlite"), tmp_path / "transcripts"
    runs = []
    for redact in (False, True, False, True):
        options = TranscribeOptions(
            whisper_model="bundled:tiny.en", device="cpu", language="en", redact_pii=redact
        )
        [result] = transcribe([two_days / DAY1], Transcriber(options), store, out)
        [current] = store.transcripts()
        written = Transcript.model_validate_json((out / "0001.json").read_text())
        runs.append((result.status, current.options["redact_pii"], current == written))
    assert runs == [
        ("transcribed", False, True),
        ("transcribed", True, True),
        ("cached", False, True),
        ("cached", True, True),
    ]


def test_transcribe_command_refuses_a_reused_id_unless_told_to_replace(
    two_days: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    args = ["--store", str(tmp_path / "qa.sqlite"), "--out", str(tmp_path / "t"), *TINY]
    assert runner.invoke(app, ["transcribe", str(two_days / DAY1), *args]).exit_code == 0
    refused = runner.invoke(app, ["transcribe", str(two_days / DAY2), *args])
    assert refused.exit_code == 1 and "already stored for a different recording" in refused.output
    assert runner.invoke(app, ["transcribe", str(two_days / DAY2), "--replace", *args]).exit_code == 0
    by_path = runner.invoke(app, ["transcribe", str(two_days), "--id-from", "path", "--json", *args])
    ids = [r["call_id"] for r in json.loads(by_path.stdout)["results"]]
    assert by_path.exit_code == 0 and ids == [f"{DAY1}/0001", f"{DAY2}/0001"]
