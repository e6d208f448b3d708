"""Speaker embeddings for stretches of a mono recording, from Resemblyzer's voice encoder.

Resemblyzer (Apache-2.0) ships its trained encoder inside its PyPI wheel, so it works on machines that
cannot reach a model hub. Its own `embed_utterance` averages 1.6 s windows over a whole utterance; here
windows are shorter and placed on speech only, because a turn in a call can be one word long and the
embedding must say who spoke *then*, not on average.

Only the wheel's weights (`pretrained.pt`) are used, with the network and features rebuilt here: importing
the `resemblyzer` package loads librosa (for one mel spectrogram) and webrtcvad at import time; librosa
brings numba, which fails to import beside the coverage 6 that the statistics test reference pins, and
webrtcvad needs `pkg_resources`, which current setuptools no longer has. The features match librosa's
`melspectrogram` as Resemblyzer calls it (n_fft 400, hop 160, 40 Slaney mel bands, power 2, centred with
zero padding): checked against librosa 0.11 to 1e-5 relative on a real call.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qa_pipeline.errors import ModelError
from qa_pipeline.transcription.audio import SAMPLE_RATE, Audio

logger = logging.getLogger(__name__)

ENCODER_ID = "resemblyzer-0.1.4"
N_FFT, HOP, N_MELS = 400, 160, 40  # Resemblyzer's hparams: 25 ms windows, 10 ms steps
FRAME_SECONDS = HOP / SAMPLE_RATE
TARGET_DBFS = -30.0  # Resemblyzer normalises quiet recordings up to this level before embedding
WINDOW_SECONDS = 1.6  # the encoder's training length; 1.2 s split the demo calls slightly worse
HOP_SECONDS = 0.3  # 0.2 s split the demo calls no better and cost half as much again
BATCH = 64
Embeddings = npt.NDArray[np.float32]


@dataclass(frozen=True)
class EmbeddedWindows:
    """One embedding per window; `centres` in seconds from the start of the recording."""

    centres: npt.NDArray[np.float64]
    embeddings: Embeddings

    def __len__(self) -> int:
        return len(self.centres)


def weights_path() -> Path | None:
    """The encoder's weights inside the installed resemblyzer wheel, found without importing it."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    return path if path.is_file() else None


def encoder_available() -> bool:
    return weights_path() is not None


def mel_frames(audio: Audio) -> npt.NDArray[np.float32]:
    """Power mel spectrogram, frames x bands, as `librosa.feature.melspectrogram` gives it to Resemblyzer."""
    padded = np.pad(audio.astype(np.float64), N_FFT // 2)
    count = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(count, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0])
    )
    window = np.hanning(N_FFT + 1)[:-1]  # periodic Hann, as scipy's get_window("hann")
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power @ _slaney_filters().T).astype(np.float32)


def _slaney_filters() -> npt.NDArray[np.float64]:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): Slaney's mel scale and area normalisation."""
    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mels = np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2)
    edges = _mel_to_hz(mels)
    spacing = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / spacing[:-1, None]
    upper = ramps[2:] / spacing[1:, None]
    weights: npt.NDArray[np.float64] = np.maximum(0, np.minimum(lower, upper))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]


_F_SP, _MIN_LOG_HZ = 200.0 / 3, 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: float) -> float:
    if hz < _MIN_LOG_HZ:
        return hz / _F_SP
    return float(_MIN_LOG_MEL + np.log(hz / _MIN_LOG_HZ) / _LOG_STEP)


def _mel_to_hz(mels: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = _F_SP * mels
    logarithmic = _MIN_LOG_HZ * np.exp(_LOG_STEP * (mels - _MIN_LOG_MEL))
    hz: npt.NDArray[np.float64] = np.where(mels >= _MIN_LOG_MEL, logarithmic, linear)
    return hz


def louder(audio: Audio) -> Audio:
    """Resemblyzer's `normalize_volume(..., increase_only=True)`: quiet recordings up to TARGET_DBFS."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if rms == 0:
        return audio
    change = TARGET_DBFS - 20 * np.log10(rms)
    if change <= 0:
        return audio
    scaled: Audio = (audio * (10 ** (change / 20))).astype(np.float32)
    return scaled


class SpeakerEncoder:
    """Holds the loaded encoder; embeds windows of speech."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    @cached_property
    def _model(self) -> Any:
        import torch
        from torch import nn

        path = weights_path()
        if path is None:
            raise ModelError(
                "telling the speakers of a mono recording apart needs Resemblyzer's voice encoder: "
                "pip install --no-deps resemblyzer==0.1.4"
            )

        class VoiceEncoder(nn.Module):  # Resemblyzer's network: 3 LSTM layers, a linear layer, ReLU
            def __init__(self) -> None:
                super().__init__()
                self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
                self.linear = nn.Linear(256, 256)
                self.relu = nn.ReLU()

            def forward(self, mels: torch.Tensor) -> torch.Tensor:
                _, (hidden, _) = self.lstm(mels)
                raw = self.relu(self.linear(hidden[-1]))
                unit: torch.Tensor = raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-9)
                return unit

        model = VoiceEncoder()
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        # the training loss's two scalars ride along in the checkpoint; the encoder has no use for them
        state = {k: v for k, v in checkpoint["model_state"].items() if not k.startswith("similarity_")}
        model.load_state_dict(state, strict=True)
        return model.to(self.device).eval()

    def embed(self, audio: Audio, spans: list[tuple[float, float]]) -> EmbeddedWindows:
        """Windows of WINDOW_SECONDS every HOP_SECONDS over each span (a span shorter than a window gets
        one window around its middle); the mel spectrogram is computed once for the whole recording."""
        import torch

        mel = mel_frames(louder(audio))
        width = round(WINDOW_SECONDS / FRAME_SECONDS)
        starts: list[int] = []
        for start, end in spans:
            first = int(start / FRAME_SECONDS)
            last = max(first, int(end / FRAME_SECONDS) - width)
            if last == first:
                middle = int((start + end) / 2 / FRAME_SECONDS)
                starts.append(max(0, min(len(mel) - width, middle - width // 2)))
                continue
            starts.extend(range(first, last + 1, round(HOP_SECONDS / FRAME_SECONDS)))
        starts = sorted({max(0, min(max(0, len(mel) - width), s)) for s in starts})
        if not starts:
            return EmbeddedWindows(np.zeros(0), np.zeros((0, 256), dtype=np.float32))
        windows = np.stack([_padded(mel[s : s + width], width) for s in starts])
        outputs = []
        with torch.no_grad():
            for index in range(0, len(windows), BATCH):
                batch = torch.from_numpy(windows[index : index + BATCH]).to(self.device)
                outputs.append(self._model(batch).cpu().numpy())
        centres = (np.asarray(starts, dtype=np.float64) + width / 2) * FRAME_SECONDS
        return EmbeddedWindows(centres, np.concatenate(outputs).astype(np.float32))


def _padded(frames: npt.NDArray[np.float32], width: int) -> npt.NDArray[np.float32]:
    if len(frames) >= width:
        return frames
    return np.pad(frames, ((0, width - len(frames)), (0, 0)))
