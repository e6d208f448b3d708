"""Decode a recording into 16 kHz mono arrays, one per speaker channel.

Decoding goes through PyAV (bundled with faster-whisper), so wav, flac, mp3, ogg/opus and m4a at any sample
rate (8 kHz telephony included) need no system FFmpeg.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from qa_pipeline.errors import AudioError, first_line

SAMPLE_RATE = 16_000
Audio = npt.NDArray[np.float32]

# Channels this correlated are one signal written twice ("fake stereo", often re-encoded so not
# bit-identical); transcribing both would double every word, so such calls are treated as mono. Real
# two-channel calls correlate far less, even with echo between the lines.
_SAME_SIGNAL_CORRELATION = 0.99


@dataclass(frozen=True)
class DecodedCall:
    layout: Literal["stereo", "mono"]
    channels: list[Audio]

    @property
    def duration(self) -> float:
        return len(self.channels[0]) / SAMPLE_RATE


def decode_call(path: Path, channels: int) -> DecodedCall:
    """Split true stereo into its two channels; everything else becomes one mono channel."""
    from faster_whisper.audio import decode_audio

    try:
        if channels == 2:
            left, right = decode_audio(str(path), sampling_rate=SAMPLE_RATE, split_stereo=True)
            if same_signal(left, right):
                decoded = DecodedCall("mono", [left])
            else:
                decoded = DecodedCall("stereo", [left, right])
        else:
            decoded = DecodedCall("mono", [decode_audio(str(path), sampling_rate=SAMPLE_RATE)])
    except Exception as exc:  # PyAV raises many unrelated types for damaged streams
        raise AudioError(f"{path}: cannot decode audio ({first_line(exc)})") from exc
    if decoded.channels[0].size == 0:
        raise AudioError(f"{path}: recording has no audio samples (zero length)")
    return decoded


def same_signal(left: Audio, right: Audio) -> bool:
    if not left.any() or not right.any():
        return not left.any() and not right.any()
    return bool(np.corrcoef(left, right)[0, 1] > _SAME_SIGNAL_CORRELATION)
