"""Copies of the recordings with the redacted spans silenced: a recording must not keep a card either.

A redacted transcript says where personal data was said and by whom. The copy keeps the recording's
sample rate and channels and is written as 16-bit WAV (lossless, plays anywhere; re-encoding to the
original codec would add its own artefacts at each cut). On a two-channel call only the channel of the
speaker who said it is silenced, so the other side stays audible; where the speaker is unknown (mono,
or "fake stereo" transcribed as one channel) every channel is. Originals are never written to.
"""

from __future__ import annotations

import logging
import os
import tempfile
import wave
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from qa_pipeline.errors import AudioError, ConfigError, first_line
from qa_pipeline.models import Redaction, Transcript
from qa_pipeline.redaction.transcript import redact_transcript
from qa_pipeline.transcription.ingest import probe_audio

logger = logging.getLogger(__name__)

MARGIN = 0.25  # seconds silenced either side of a redaction: word times from ASR are approximate


@dataclass(frozen=True)
class MutedRecording:
    call_id: str
    source: Path
    target: Path
    spans: int
    muted_seconds: float


@dataclass(frozen=True)
class _Samples:
    rate: int
    channels: npt.NDArray[np.float32]  # (channels, samples)


def mute_recordings(
    transcripts: Iterable[Transcript],
    audio_paths: Mapping[str, str | Path],
    out_dir: Path,
    margin: float = MARGIN,
) -> list[MutedRecording]:
    """One muted copy per transcript, `<call_id>.wav` in `out_dir`.

    The transcript's text is redacted again first, so transcripts stored without redaction (or by an
    older version) are muted as thoroughly as redacted ones. Conversations imported as text have no
    recording to mute and are passed over."""
    transcripts = [t for t in transcripts if t.channel_layout != "text"]
    sources = {t.call_id: _source(t.call_id, audio_paths) for t in transcripts}
    _refuse_input_folder(out_dir, sources.values())
    muted = []
    for transcript in transcripts:
        source, target = sources[transcript.call_id], out_dir / f"{transcript.call_id}.wav"
        if target.resolve() == source.resolve():
            raise ConfigError(f"{target}: would overwrite the original recording")
        if probe_audio(source).sha256 != transcript.audio_sha256:
            raise AudioError(f"{source}: recording differs from the one transcribed for {transcript.call_id}")
        redactions = redact_transcript(transcript).redactions
        samples = _read(source)
        seconds = _mute(samples, redactions, _channels_by_speaker(transcript, len(samples.channels)), margin)
        _write_wav(target, samples)
        logger.info("%s: %d spans, %.1f s muted -> %s", source, len(redactions), seconds, target)
        muted.append(MutedRecording(transcript.call_id, source, target, len(redactions), seconds))
    return muted


def transcripts_in_folder(folder: Path) -> list[Transcript]:
    """The `<call_id>.json` transcripts `transcribe` wrote under a folder (ids may name subfolders)."""
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such transcripts folder")
    transcripts = []
    for path in sorted(folder.rglob("*.json")):
        try:
            transcripts.append(Transcript.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValidationError) as exc:
            raise ConfigError(f"{path}: not a transcript ({first_line(exc)})") from exc
    return transcripts


def _source(call_id: str, audio_paths: Mapping[str, str | Path]) -> Path:
    if call_id not in audio_paths:
        raise ConfigError(f"call {call_id}: the store has no recording for this transcript")
    path = Path(audio_paths[call_id])
    if not path.is_file():
        raise AudioError(f"{path}: recording of {call_id} not found")
    return path


def _refuse_input_folder(out_dir: Path, sources: Iterable[Path]) -> None:
    folders = {source.resolve().parent for source in sources}
    if out_dir.resolve() in folders:
        raise ConfigError(f"{out_dir}: holds the original recordings; muted copies need another folder")


def _channels_by_speaker(transcript: Transcript, channels: int) -> dict[str, list[int]]:
    """Which channels each speaker is on; transcription put the agent on `agent_channel` of stereo."""
    everything = list(range(channels))
    if transcript.channel_layout != "stereo" or channels != 2:
        return {"agent": everything, "customer": everything, "unknown": everything}
    agent = int(str(transcript.options.get("agent_channel", 0)))
    return {"agent": [agent], "customer": [1 - agent], "unknown": everything}


def _mute(
    samples: _Samples, redactions: Sequence[Redaction], channels: Mapping[str, list[int]], margin: float
) -> float:
    length = samples.channels.shape[1]
    muted = np.zeros(samples.channels.shape, dtype=bool)
    for redaction in redactions:
        start = max(0, int((redaction.start - margin) * samples.rate))
        end = min(length, int(np.ceil((redaction.end + margin) * samples.rate)))
        muted[channels[redaction.speaker], start:end] = True
    samples.channels[muted] = 0.0
    return float(muted.any(axis=0).sum()) / samples.rate


def _read(path: Path) -> _Samples:
    """All samples at the file's own rate and channels, as planar float."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=stream.rate)
            frames = [
                out.to_ndarray() for frame in container.decode(stream) for out in resampler.resample(frame)
            ]
            frames += [out.to_ndarray() for out in resampler.resample(None)]
            rate = stream.rate
    except (OSError, IndexError, av.error.FFmpegError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({first_line(exc)})") from exc
    if not frames:
        raise AudioError(f"{path}: recording has no audio samples")
    return _Samples(rate, np.concatenate(frames, axis=1).astype(np.float32))


def _write_wav(target: Path, samples: _Samples) -> None:
    """16-bit PCM, written to a temporary file and renamed so a killed run leaves no half a copy."""
    pcm = (np.clip(samples.channels, -1.0, 1.0) * 32767).round().astype("<i2")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        umask = os.umask(0o022)  # the permissions any new file would get, not the temporary file's 0600
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as raw, wave.open(raw, "wb") as out:
            out.setnchannels(pcm.shape[0])
            out.setsampwidth(2)
            out.setframerate(samples.rate)
            out.writeframes(pcm.T.tobytes())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
