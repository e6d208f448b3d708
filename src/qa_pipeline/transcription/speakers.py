"""A mono call's speakers: voices told apart, words given to them, and the agent found.

Glue between the speaker encoder, the clustering of `diarization` and the cues of `speaker_roles`; the
transcriber calls `find_speakers` once per mono recording, after Whisper.
"""

from __future__ import annotations

from typing import Literal

from qa_pipeline.models import CallMetadata, Diarization, Segment, Speaker, SpeakerTurn
from qa_pipeline.transcription.audio import SAMPLE_RATE, Audio
from qa_pipeline.transcription.diarization import (
    SpeakerTurns,
    assign_speakers,
    opening_speaker,
    speaker_turns,
    speech_islands,
    split_segments,
    word_slots,
)
from qa_pipeline.transcription.speaker_encoder import ENCODER_ID, SpeakerEncoder
from qa_pipeline.transcription.speaker_roles import MIN_ROLE_CONFIDENCE, agent_speaker
from qa_pipeline.transcription.voice_activity import speech_regions

DIARIZATION_VERSION = 2  # 2: turns over voice activity, the opener by its first words


def find_speakers(
    audio: Audio,
    segments: list[Segment],
    encoder: SpeakerEncoder,
    speakers: tuple[int, int],
    metadata: CallMetadata,
) -> tuple[list[Segment], Diarization]:
    """Segments cut and labelled by speaker, and how sure that is."""
    slots = word_slots(segments)
    windows = encoder.embed(audio, speech_islands(slots, len(audio) / SAMPLE_RATE))
    turns = assign_speakers(slots, windows, speakers)
    texts = _texts_by_speaker(segments, turns)
    roles = agent_speaker(texts, metadata, opening_speaker(turns))
    labels: list[Speaker] = [
        "unknown" if roles.agent is None else ("agent" if index == roles.agent else "customer")
        for index in range(turns.count)
    ]
    doubts: list[Literal["speakers", "roles"]] = []
    if turns.uncertain:
        doubts.append("speakers")
    if turns.count > 1 and roles.confidence < MIN_ROLE_CONFIDENCE:
        doubts.append("roles")
    diarization = Diarization(
        method=ENCODER_ID,
        speakers=turns.count,
        separation=None if turns.separation is None else round(turns.separation, 4),
        agent=roles.agent,
        role_confidence=round(roles.confidence, 3),
        role_reason=roles.reason,
        doubts=doubts,
        turns=[
            SpeakerTurn(start=round(start, 3), end=round(end, 3), speaker=labels[index])
            for start, end, index in speaker_turns(speech_regions(audio), turns)
        ],
    )
    return split_segments(segments, turns, labels), diarization


def _texts_by_speaker(segments: list[Segment], turns: SpeakerTurns) -> list[str]:
    texts: list[list[str]] = [[] for _ in range(turns.count)]
    for slot, speaker in zip(turns.slots, turns.speakers, strict=True):
        segment = segments[slot.segment]
        texts[speaker].append(segment.text if slot.word is None else segment.words[slot.word].word)
    return ["".join(words) for words in texts]
