"""The `qa-pipeline` command as a user runs it: real files, real model, exit codes, resume after a kill."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import write_wav
from typer.testing import CliRunner

from qa_pipeline.cli import app

runner = CliRunner()
TINY = ["--whisper-model", "bundled:tiny.en", "--language", "en", "--device", "cpu"]


@pytest.fixture
def calls(tmp_path: Path, seeds: Path) -> Path:
    """Two short real calls, one broken file and one empty file, in a folder with a long name."""
    folder = tmp_path / "calls-from-the-october-archive-of-the-second-site"
    folder.mkdir()
    for name in ("en08_prompt_injection.ogg", "en03_no_identification.ogg"):
        shutil.copy(seeds / "audio" / name, folder / name)
    (folder / "broken.mp3").write_bytes(b"ID3 but then nothing useful" * 10)
    (folder / "empty.wav").write_bytes(b"")
    return folder


def run_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_help_is_fast_and_loads_no_model() -> None:
    code = (
        "import sys; from qa_pipeline.cli import app; "
        "print('faster_whisper' in sys.modules, 'av' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_batch_with_bad_files_finishes_the_good_ones(tmp_path: Path, calls: Path) -> None:
    out = tmp_path / "out"
    code, output = run_cli(
        "transcribe", str(calls), "--out", str(out), "--store", str(tmp_path / "s.sqlite"), *TINY
    )
    assert code == 1  # some inputs failed
    assert "broken.mp3" in output and "not a readable audio file" in output
    assert "empty.wav" in output and "file is empty" in output
    # each problem on one line with its whole path, however long (a terminal would wrap it, not us)
    lines = output.splitlines()
    for name in ("broken.mp3", "empty.wav"):
        assert any(str(calls / name) in line for line in lines), output
    assert "2 transcribed, 0 cached, 2 failed" in output
    transcript = json.loads((out / "en08_prompt_injection.json").read_text())
    assert {"call_id", "duration", "language", "segments", "model", "options"} <= transcript.keys()
    assert {"speaker", "start", "end", "text", "words"} <= transcript["segments"][0].keys()


def test_second_run_reuses_the_store_and_force_redoes(tmp_path: Path, seeds: Path) -> None:
    audio = str(seeds / "audio" / "en08_prompt_injection.ogg")
    args = ["--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), *TINY, "--json"]
    first = json.loads(run_cli("transcribe", audio, *args)[1])
    second = json.loads(run_cli("transcribe", audio, *args)[1])
    forced = json.loads(run_cli("transcribe", audio, *args, "--force")[1])
    assert [r["status"] for r in (first["results"] + second["results"] + forced["results"])] == [
        "transcribed",
        "cached",
        "transcribed",
    ]
    assert second["summary"]["cached"] == 1
    assert first["results"][0]["duration"] == second["results"][0]["duration"]


def test_changed_options_are_not_served_from_cache(tmp_path: Path, seeds: Path) -> None:
    audio = str(seeds / "audio" / "en08_prompt_injection.ogg")
    args = ["--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), *TINY, "--json"]
    run_cli("transcribe", audio, *args)
    other = json.loads(run_cli("transcribe", audio, *args, "--beam-size", "1")[1])
    assert other["results"][0]["status"] == "transcribed"


def test_manifest_metadata_reaches_the_transcript(tmp_path: Path, seeds: Path) -> None:
    shutil.copy(seeds / "audio" / "en08_prompt_injection.ogg", tmp_path / "a.ogg")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "call_id,path,agent,team,queue,date\nsales-001,a.ogg,Dan Price,mobile,sales,2026-10-08\n"
    )
    code, _ = run_cli(
        "transcribe",
        str(manifest),
        "--out",
        str(tmp_path / "out"),
        "--store",
        str(tmp_path / "s.sqlite"),
        *TINY,
    )
    assert code == 0
    transcript = json.loads((tmp_path / "out" / "sales-001.json").read_text())
    assert transcript["metadata"]["agent"] == "Dan Price" and transcript["metadata"]["queue"] == "sales"


def test_killed_run_resumes_where_it_stopped(tmp_path: Path, seeds: Path) -> None:
    folder = tmp_path / "calls"
    folder.mkdir()
    names = ["en08_prompt_injection", "en03_no_identification", "en04_rude_agent"]
    for name in names:
        shutil.copy(seeds / "audio" / f"{name}.ogg", folder / f"{name}.ogg")
    out, store = tmp_path / "out", tmp_path / "s.sqlite"
    command = [
        sys.executable,
        "-m",
        "qa_pipeline",
        "transcribe",
        str(folder),
        "--out",
        str(out),
        "--store",
        str(store),
        *TINY,
    ]
    process = subprocess.Popen(
        command, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 300
    while not list(out.glob("*.json")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = {p.stem for p in out.glob("*.json")}
    assert finished and finished != set(names), "kill should land mid-batch"
    resumed = subprocess.run([*command, "--json"], capture_output=True, text=True, env=os.environ.copy())
    statuses = {r["call_id"]: r["status"] for r in json.loads(resumed.stdout)["results"]}
    assert all(statuses[name] == "cached" for name in finished)
    assert all(statuses[name] == "transcribed" for name in set(names) - finished)
    assert not list(out.glob(".*.tmp"))


def test_bad_option_is_a_clean_error(tmp_path: Path, seeds: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa_pipeline",
            "transcribe",
            str(seeds / "audio"),
            "--whisper-model",
            str(tmp_path / "missing" / "m"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_unknown_language_option_is_refused_before_any_model_loads(seeds: Path) -> None:
    result = CliRunner().invoke(app, ["transcribe", str(seeds / "audio"), "--language", "russian"])
    text = " ".join(result.output.replace("│", " ").split())  # the error box wraps long lines
    assert result.exit_code == 2 and "'russian' is not a Whisper language code" in text


def test_folder_with_only_bad_audio_exits_nonzero(tmp_path: Path) -> None:
    write_wav(tmp_path / "zero.wav", np.zeros(0, dtype=np.float32), 8000)
    code, output = run_cli(
        "transcribe",
        str(tmp_path),
        "--out",
        str(tmp_path / "o"),
        "--store",
        str(tmp_path / "s.sqlite"),
        *TINY,
    )
    assert code == 1 and "zero length" in output


def test_manifest_language_is_part_of_the_cache_key(tmp_path: Path, seeds: Path) -> None:
    shutil.copy(seeds / "audio" / "en08_prompt_injection.ogg", tmp_path / "a.ogg")
    manifest = tmp_path / "manifest.csv"
    args = ["--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), "--json"]
    args += ["--whisper-model", "bundled:tiny.en", "--device", "cpu"]
    manifest.write_text("call_id,path\nc1,a.ogg\n")
    first = json.loads(run_cli("transcribe", str(manifest), *args)[1])
    manifest.write_text("call_id,path,language\nc1,a.ogg,en\n")
    second = json.loads(run_cli("transcribe", str(manifest), *args)[1])
    assert [first["results"][0]["status"], second["results"][0]["status"]] == ["transcribed", "transcribed"]
    assert json.loads((tmp_path / "out" / "c1.json").read_text())["options"]["language"] == "en"


def test_same_recording_under_two_ids_keeps_both_calls(tmp_path: Path, seeds: Path) -> None:
    from qa_pipeline.store.database import Store

    shutil.copy(seeds / "audio" / "en08_prompt_injection.ogg", tmp_path / "a.ogg")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("call_id,path\nfirst,a.ogg\nsecond,a.ogg\n")
    store = tmp_path / "s.sqlite"
    args = ["--out", str(tmp_path / "out"), "--store", str(store), "--json", *TINY]
    results = json.loads(run_cli("transcribe", str(manifest), *args)[1])["results"]
    assert [r["status"] for r in results] == ["transcribed", "cached"]  # the words are reused
    assert [t.call_id for t in Store(store).transcripts()] == ["first", "second"]
