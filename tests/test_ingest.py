from pathlib import Path

import numpy as np
import pytest
from conftest import write_wav

from qa_pipeline.errors import AudioError
from qa_pipeline.transcription.ingest import CallSource, discover_inputs, probe_audio, read_manifest


def test_real_demo_calls_are_probed(seeds: Path) -> None:
    info = probe_audio(seeds / "audio" / "en02_no_greeting.ogg")
    assert (info.channels, info.sample_rate, info.codec) == (2, 8000, "vorbis")
    assert 30 <= info.duration <= 90
    assert len(info.sha256) == 64


def test_folder_discovery_keeps_audio_and_names_calls_by_file(tmp_path: Path) -> None:
    tone = np.sin(np.linspace(0, 800, 8000)).astype(np.float32) * 0.1
    write_wav(tmp_path / "call one.wav", tone, 8000)
    (tmp_path / "day2").mkdir()
    write_wav(tmp_path / "day2" / "call two.wav", tone, 8000)
    (tmp_path / "notes.txt").write_text("not audio")
    found = discover_inputs([tmp_path])
    assert [s.call_id for s in found.sources] == ["call_one", "call_two"]
    assert found.problems == []


def day_folders(root: Path) -> list[Path]:
    """The same file name on two days, as recorders export them."""
    tone = np.sin(np.linspace(0, 800, 8000)).astype(np.float32) * 0.1
    paths = []
    for day in ("2026-10-01", "2026-10-02"):
        (root / day).mkdir(parents=True)
        paths.append(write_wav(root / day / "0001.wav", tone, 8000))
    return paths


def test_inputs_sharing_an_id_in_one_run_are_all_refused(tmp_path: Path) -> None:
    day1, day2 = day_folders(tmp_path)
    found = discover_inputs([tmp_path])
    assert found.sources == []
    assert [(p.source, p.reason.split(";")[0]) for p in found.problems] == [
        (str(day1), f"call_id '0001' is also the id of {day2}"),
        (str(day2), f"call_id '0001' is also the id of {day1}"),
    ]


def test_ids_from_paths_name_calls_by_folder_and_stem(tmp_path: Path) -> None:
    day1, day2 = day_folders(tmp_path)
    (tmp_path / "odd name!").mkdir()
    write_wav(tmp_path / "odd name!" / "-- x.wav", np.zeros(8000, dtype=np.float32), 8000)
    found = discover_inputs([tmp_path], id_from="path")
    assert [(s.call_id, s.path) for s in found.sources[:2]] == [
        ("2026-10-01/0001", day1),
        ("2026-10-02/0001", day2),
    ]
    assert found.sources[2].call_id == "odd_name/x"  # parts are cleaned: nothing climbs out of a folder
    assert found.problems == []
    assert [s.call_id for s in discover_inputs([day1], id_from="path").sources] == [
        "0001"
    ]  # a file: its stem


def test_a_manifest_may_take_ids_from_paths(tmp_path: Path) -> None:
    day_folders(tmp_path / "audio")
    manifest = write_manifest(
        tmp_path, "path,agent\naudio/2026-10-01/0001.wav,Anna\naudio/2026-10-02/0001.wav,Bob\n"
    )
    assert "lacks required column(s) call_id" in discover_inputs([manifest]).problems[0].reason
    found = discover_inputs([manifest], id_from="path")
    assert [(s.call_id, s.metadata.agent) for s in found.sources] == [
        ("audio/2026-10-01/0001", "Anna"),
        ("audio/2026-10-02/0001", "Bob"),
    ]
    given = write_manifest(
        tmp_path, "call_id,path\nmine,audio/2026-10-01/0001.wav\n,audio/2026-10-02/0001.wav\n"
    )
    found = discover_inputs([given], id_from="path")
    assert [s.call_id for s in found.sources] == ["mine", "audio/2026-10-02/0001"]


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
        "a/../b,audio/b.wav,,,,,\n"
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
    assert "each part starting with a letter or digit" in reasons["5"]  # '..' cannot climb out of a folder
    assert reasons["6"] == "path is empty"
    assert (
        reasons["8"] == "language 'english' is not a Whisper language code (two letters such as en, ru, de)"
    )
    found = discover_inputs([manifest])
    assert found.sources == []  # c1 names two recordings: neither is transcribed
    assert sum("call_id 'c1' is also the id of" in p.reason for p in found.problems) == 2


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
