"""Unusual and bad recordings in one batch: each gets a clear result naming the file, the rest finishes."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import write_wav
from typer.testing import CliRunner

from qa_pipeline.cli import app

TINY = ["--whisper-model", "bundled:tiny.en", "--language", "en", "--device", "cpu"]


def resampled(samples: np.ndarray, rate: int) -> np.ndarray:
    times = np.arange(int(len(samples) * rate / 16000)) / rate
    return np.interp(times, np.arange(len(samples)) / 16000, samples).astype(np.float32)


def two_hours(path: Path) -> None:
    """A valid 2-hour 8 kHz WAV of silence, written sparse (its header and a size, no real bytes)."""
    data = 2 * 3600 * 8000 * 2
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + data)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    )
    with path.open("wb") as handle:
        handle.write(header + b"data" + struct.pack("<I", data))
        handle.truncate(44 + data)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, seeds: Path) -> dict[str, dict[str, object]]:
    from faster_whisper.audio import decode_audio

    agent, _ = decode_audio(
        str(seeds / "audio" / "en01_billing_exemplary.ogg"), sampling_rate=16000, split_stereo=True
    )
    speech = agent[: 16000 * 8]  # the agent's greeting: "Good morning, Northwind Energy, ..."
    folder = tmp_path_factory.mktemp("bad-audio")
    for rate in (8000, 16000, 44100, 48000):
        write_wav(folder / f"rate-{rate}.wav", resampled(speech, rate), rate)
    four = np.zeros((len(speech), 4), dtype=np.float32)
    four[:, 0] = speech
    write_wav(folder / "four-channels.wav", four, 16000)
    write_wav(folder / "silent.wav", np.zeros(16000 * 20, dtype=np.float32), 16000)
    write_wav(folder / "short.wav", speech[: 16000 // 5], 16000)
    two_hours(folder / "two-hours.wav")
    store = str(folder / "qa.sqlite")
    args = ["transcribe", str(folder), "--store", store, "--out", str(folder / "out"), "--json", *TINY]
    report = json.loads(CliRunner().invoke(app, args).stdout)
    return {Path(str(r["source"])).stem: r for r in report["results"]}


def transcript_text(result: dict[str, object]) -> str:
    document = json.loads(Path(str(result["output"])).read_text(encoding="utf-8"))
    return " ".join(segment["text"] for segment in document["segments"]).lower()


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_every_common_sample_rate_is_transcribed(results: dict[str, dict[str, object]], rate: int) -> None:
    result = results[f"rate-{rate}"]
    assert result["status"] == "transcribed" and result["duration"] == pytest.approx(8.0, abs=0.01)
    text = transcript_text(result)
    assert "good morning" in text and "energy" in text


def test_more_than_two_channels_are_mixed_to_one(results: dict[str, dict[str, object]]) -> None:
    result = results["four-channels"]
    assert result["status"] == "transcribed" and "good morning" in transcript_text(result)
    document = json.loads(Path(str(result["output"])).read_text(encoding="utf-8"))
    assert document["channel_layout"] == "mono"  # speakers are then labelled by the judge


def test_a_silent_recording_is_transcribed_empty_with_a_warning(
    results: dict[str, dict[str, object]],
) -> None:
    result = results["silent"]
    assert result["status"] == "transcribed" and transcript_text(result) == ""
    assert "silent.wav: no speech found" in str(result["reason"])


def test_a_recording_under_a_second_is_refused_naming_the_file(results: dict[str, dict[str, object]]) -> None:
    result = results["short"]
    assert result["status"] == "failed"
    assert str(result["reason"]).endswith("short.wav: recording is 0.2 s long; a call needs at least 1 s")


def test_a_two_hour_recording_is_refused_by_the_length_limit(results: dict[str, dict[str, object]]) -> None:
    result = results["two-hours"]
    assert result["status"] == "failed"
    assert str(result["reason"]).endswith(
        "two-hours.wav: recording is 120 min long, over the 90 min limit (--max-minutes)"
    )
