"""Shared fixtures: an isolated cache (tests never touch the user's home), real models, real audio."""

from __future__ import annotations

import os

# Test files run in two processes that share the machine's cores (pytest-xdist): torch's thread pools in
# both would spin against each other, so each process keeps one thread for them.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")

import socket
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from postgres_server import postgres_server, server_binaries

from qa_pipeline.models import CallTimings, Segment, Transcript
from qa_pipeline.transcription.transcribe import TranscribeOptions, Transcriber

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SHARED_AUDIO = REPO.parent / "shared" / "data" / "audio"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("qa-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QA_PIPELINE_CACHE", str(cache))
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield cache


@pytest.fixture(scope="session")
def seeds() -> Path:
    return SEEDS


def shared_audio(name: str) -> Path:
    """A real recording from ../shared/data/audio, or a clean skip where that folder is absent."""
    path = SHARED_AUDIO / name
    if not path.is_file():
        pytest.skip(f"real recording {name} not present at {SHARED_AUDIO}")
    return path


@pytest.fixture(scope="session")
def base_transcriber() -> Transcriber:
    return Transcriber(TranscribeOptions(whisper_model="bundled:base", device="cpu"))


@pytest.fixture(scope="session")
def tiny_transcriber() -> Transcriber:
    return Transcriber(TranscribeOptions(whisper_model="bundled:tiny.en", device="cpu", language="en"))


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write float samples shaped (n,) or (n, channels) as 16-bit PCM."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(frames.shape[1])
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((np.clip(frames, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


def typed_transcript(*lines: tuple[str, str]) -> Transcript:
    """A transcript from (speaker, text) lines, one per second: for tests that need no audio."""
    segments = [
        Segment(
            speaker=speaker,  # type: ignore[arg-type]
            start=float(i),
            end=float(i) + 0.9,
            text=text,
            avg_logprob=-0.2,
            no_speech_prob=0.01,
            compression_ratio=1.2,
        )
        for i, (speaker, text) in enumerate(lines)
    ]
    return Transcript(
        call_id="c1",
        duration=10,
        language="en",
        language_probability=1,
        channel_layout="stereo",
        segments=segments,
        timings=CallTimings(talk_time={}, silence_total=0, silences=[], overtalk_total=0, overtalks=[]),
        model="m",
        options={},
        audio_sha256="0" * 64,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not found (Debian package postgresql); SQLite still tested")
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install '.[postgres]')")
    with postgres_server(binaries) as url:
        yield url


def fresh_database(server_url: str, name: str) -> str:
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.replace("/qa?", f"/{name}?")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store on SQLite and on a real PostgreSQL server (skipped where it is absent)."""
    if request.param == "sqlite":
        return str(tmp_path / "qa.sqlite")
    server = request.getfixturevalue("postgres")
    return fresh_database(server, f"t{abs(hash(request.node.name)) % 10**8}")
