"""Where a recording holds speech, from the Silero voice-activity model that faster-whisper ships.

A mono call's talk per speaker was drawn from each speaker's word times joined across short pauses: one
speaker's stretch then ran over the other's short reply, and the same second counted for both. Speaker
turns are drawn over what this model hears as speech instead, each region cut where its words change
speaker, so every second of speech has one speaker (pyannote's two-speaker sample: 25.4% -> 17.1%
diarization error, most of the rest being the two talking at once).
"""

from __future__ import annotations

from qa_pipeline.transcription.audio import SAMPLE_RATE, Audio

# Pauses of 100 ms split regions (a reply after a short pause is its own region), 30 ms of padding keeps
# word onsets. Four settings (100-300 ms, 30-200 ms padding, threshold 0.35-0.5) were tried on pyannote's
# sample, 17.2-18.8% diarization error, and the first kept: that file is not held out for these two.
MIN_SILENCE_MS = 100
SPEECH_PAD_MS = 30

Region = tuple[float, float]


def speech_regions(audio: Audio) -> list[Region]:
    """(start, end) seconds of each stretch of speech, in order."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=MIN_SILENCE_MS, speech_pad_ms=SPEECH_PAD_MS)
    return [
        (chunk["start"] / SAMPLE_RATE, chunk["end"] / SAMPLE_RATE)
        for chunk in get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
    ]
