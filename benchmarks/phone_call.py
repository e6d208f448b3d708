"""A real telephone conversation as an 8 kHz stereo call, for the transcription benchmark.

The pyannote.audio wheel on PyPI (MIT) ships a 30 s recording of two people on the phone with a reference
transcript timed per speaker (`sample.wav`, `sample.stm`). Each speaker's turns are placed on a channel of
their own (the first speaker left, as the agent), and the result is resampled to 8 kHz: a real two-sided
phone call in the layout contact centres record, with a reference per channel. The wheel is downloaded
once into the cache (`pip download`, no install); nothing of it enters the repository.
"""

from __future__ import annotations

import subprocess
import sys
import wave
import zipfile
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

WHEEL = "pyannote.audio==4.0.7"
SAMPLE = "pyannote/audio/sample/"
RATE_IN, RATE_OUT = 16_000, 8_000
PAD = 0.15  # seconds kept around each reference turn


def real_phone_call(cache: Path) -> tuple[Path, list[str]] | None:
    """The stereo call and its per-channel references (agent first), or None when it cannot be fetched."""
    folder = cache / "benchmark-phone-call"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = next(folder.glob("pyannote_audio-*.whl"), None)
    if wheel is None:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", WHEEL, "-d", str(folder)]
        subprocess.run(command, check=False, capture_output=True)
        wheel = next(folder.glob("pyannote_audio-*.whl"), None)
        if wheel is None:
            return None
    with zipfile.ZipFile(wheel) as archive:
        turns = _turns(archive.read(SAMPLE + "sample.stm").decode("utf-8"))
        target = folder / "phone_call_8k_stereo.wav"
        if not target.is_file():
            archive.extract(SAMPLE + "sample.wav", folder)
            _write_stereo(_read_mono(folder / SAMPLE / "sample.wav"), turns, target)
    speakers = list(dict.fromkeys(speaker for speaker, *_ in turns))
    references = [" ".join(text for who, _, _, text in turns if who == speaker) for speaker in speakers]
    return target, references


def _turns(stm: str) -> list[tuple[str, float, float, str]]:
    """(speaker, start, end, text) from STM lines: file channel speaker start end text."""
    turns = []
    for line in stm.splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6:
            turns.append((parts[2], float(parts[3]), float(parts[4]), parts[5]))
    return turns


def _read_mono(path: Path) -> np.ndarray:
    with wave.open(str(path)) as source:
        assert source.getframerate() == RATE_IN and source.getnchannels() == 1
        return np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16).astype(np.float32)


def _write_stereo(mono: np.ndarray, turns: list[tuple[str, float, float, str]], target: Path) -> None:
    speakers = list(dict.fromkeys(speaker for speaker, *_ in turns))[:2]
    channels = np.zeros((2, len(mono)), dtype=np.float32)
    for speaker, start, end, _ in turns:
        a, b = int(max(0.0, start - PAD) * RATE_IN), int((end + PAD) * RATE_IN)
        channels[speakers.index(speaker), a:b] = mono[a:b]
    telephone = resample_poly(channels, RATE_OUT, RATE_IN, axis=1)
    frames = np.clip(telephone.T, -32768, 32767).astype(np.int16)
    with wave.open(str(target), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE_OUT)
        out.writeframes(frames.tobytes())
