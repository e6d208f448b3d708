from pathlib import Path

import numpy as np
import pytest
from conftest import write_wav

from qa_pipeline.errors import AudioError
from qa_pipeline.ingest import CallSource, discover_inputs, probe_audio, read_manifest


def test_real_demo_calls_are_probed(seeds: Path) -> None:
    info = probe_audio(seeds / "audio" / "en02_no_greeting.ogg")
    assert (info.channels, info.sample_rate, info.codec) == (2, 8000, "vorbis")
    assert 30 <= info.duration <= 90
    assert len(info.sha256) == 64


def test_folder_discovery_keeps_audio_and_names_calls_by_file(tmp_path: Path) -> None:
    tone = np.sin(np.linspace(0, 800, 8000)).astype(np.float32) * 0.1
    write_wav(tmp_path / "call one.wav", tone, 8000)
    (tmp_path / "day2").mkdir()
    write_wav(tmp_path / "day2" / "call one.wav", tone, 8000)
    (tmp_path / "notes.txt").write_text("not audio")
    found = discover_inputs([tmp_path])
    ids = [s.call_id for s in found.sources]
    assert ids[0] == "call_one"
    assert ids[1].startswith("call_one-") and len(ids) == 2
    assert found.problems == []


def test_missing_input_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    found = discover_inputs([tmp_path / "nope.wav"])
    assert found.sources == []
    assert found.problems[0].reason == "no such file or folder"


def write_manifest(folder: Path, text: str) -> Path:
    manifest = folder / "manifest.csv"
    manifest.write_text(text, encoding="utf-8")
    return manifest


def test_manifest_keeps_metadata_and_reports_bad_rows(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path,
        "call_id,path,agent,team,queue,date,language\n"
        "c1,audio/a.wav,Anna,billing,support,2026-10-01,en\n"
        "c2,../../etc/passwd,,,,,\n"
        "bad id!,audio/b.wav,,,,,\n"
        "c3,,,,,,\n"
        "c1,audio/c.wav,,,,,\n"
        "c4,audio/d.wav,,,,,english\n",
    )
    sources, problems = read_manifest(manifest)
    assert sources[0] == CallSource(
        "c1",
        (tmp_path / "audio" / "a.wav").resolve(),
        sources[0].metadata,
    )
    assert sources[0].metadata.agent == "Anna" and sources[0].metadata.language == "en"
    reasons = {p.source.rsplit(":", 1)[1]: p.reason for p in problems}
    assert "leaves the manifest's folder" in reasons["3"]
    assert "call_id" in reasons["4"]
    assert reasons["5"] == "path is empty"
    assert (
        reasons["7"] == "language 'english' is not a Whisper language code (two letters such as en, ru, de)"
    )
    found = discover_inputs([manifest])
    assert [s.call_id for s in found.sources] == ["c1"]
    assert any("already used" in p.reason for p in found.problems)


def test_manifest_header_errors_name_the_file(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, "id,file\nx,y.wav\n")
    found = discover_inputs([manifest])
    assert found.sources == []
    assert str(manifest) in found.problems[0].reason
    assert "call_id, path" in found.problems[0].reason
    typo = write_manifest(tmp_path, "call_id,path,agnet\nx,y.wav,Bob\n")
    assert "agnet" in discover_inputs([typo]).problems[0].reason


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.wav", b"", "file is empty"),
        ("text.mp3", b"this is a text file, not audio\n" * 20, "not a readable audio file"),
        (
            "noise.ogg",
            bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)),
            "not a readable",
        ),
    ],
)
def test_bad_files_raise_audio_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioError) as error:
        probe_audio(path)
    assert str(path) in str(error.value)
    assert reason in str(error.value)


def test_a_missing_file_is_named_as_missing(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"gone\.wav: file not found$"):
        probe_audio(tmp_path / "gone.wav")


def test_zero_length_wav_is_rejected(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "silent.wav", np.zeros(0, dtype=np.float32), 8000)
    with pytest.raises(AudioError, match="zero length"):
        probe_audio(path)


def test_truncated_recording_is_rejected(tmp_path: Path, seeds: Path) -> None:
    original = (seeds / "audio" / "en01_billing_exemplary.ogg").read_bytes()
    path = tmp_path / "cut.ogg"
    path.write_bytes(original[:200])  # header only, no audio pages
    with pytest.raises(AudioError) as error:
        probe_audio(path)
    assert str(path) in str(error.value)
