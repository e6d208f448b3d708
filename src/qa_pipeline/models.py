"""Core objects that cross stage boundaries.

Every stage reads and writes these, so they are the contract between ingest, transcription and the
stages that follow; keeping them in one module keeps that contract in one place.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Speaker = Literal["agent", "customer", "unknown"]


class CallMetadata(BaseModel):
    """What a manifest may say about a call; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    agent: str | None = None
    team: str | None = None
    queue: str | None = None
    date: str | None = None
    language: str | None = None


class AudioInfo(BaseModel):
    """What probing the file found, before any decoding for ASR."""

    duration: float
    sample_rate: int
    channels: int
    codec: str
    sha256: str


class Call(BaseModel):
    """One recording to be checked."""

    call_id: str
    audio_path: str
    audio: AudioInfo
    metadata: CallMetadata = Field(default_factory=CallMetadata)


class Word(BaseModel):
    start: float
    end: float
    word: str
    probability: float


class Segment(BaseModel):
    """One stretch of speech by one speaker, with the ASR's own confidence kept for later stages."""

    speaker: Speaker
    start: float
    end: float
    text: str
    words: list[Word] = Field(default_factory=list)
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    flags: list[str] = Field(
        default_factory=list,
        description="Hallucination-guard findings: low_confidence, repeated_phrase, known_hallucination.",
    )


class Silence(BaseModel):
    start: float
    end: float


class Overtalk(BaseModel):
    start: float
    end: float


class CallTimings(BaseModel):
    """Operational metrics derived from segment timings, not from the words."""

    talk_time: dict[str, float]
    silence_total: float
    silences: list[Silence]
    overtalk_total: float
    overtalks: list[Overtalk]


class Transcript(BaseModel):
    """The transcription stage's result for one call; also the JSON written next to the audio results."""

    call_id: str
    duration: float
    language: str
    language_probability: float
    channel_layout: Literal["stereo", "mono"]
    segments: list[Segment]
    timings: CallTimings
    model: str
    options: dict[str, object]
    audio_sha256: str
    metadata: CallMetadata = Field(default_factory=CallMetadata)

    def text_by_speaker(self, speaker: Speaker) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.speaker == speaker).strip()
