"""Shared fixtures: an isolated cache (tests never touch the user's home), real models, real audio."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from qa_pipeline.transcribe import TranscribeOptions, Transcriber

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
