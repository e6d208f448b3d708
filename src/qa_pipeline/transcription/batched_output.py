"""Batched decoding's output made like sequential decoding's, after the fact.

Batched faster-whisper returns one segment per 30 s chunk of speech, which on one channel of a call runs
across the other side's turns; split at pauses (`split_at_pauses`), a channel gives one segment per
utterance, as sequential decoding does, so turns interleave by time in the transcript the judge reads.

Sequential faster-whisper with `hallucination_silence_threshold` also skips a segment whose words look
invented (improbable, or implausibly short or long) when silence longer than the threshold lies on both
sides, and decodes on from after it. Batched decoding cannot seek, so the same test runs on its output
(`skip_hallucinated_silence`) and such segments are dropped. (The hallucination guard in `guard.py` is a
different step: it flags suspicious text and deletes nothing.)
"""

from __future__ import annotations

import zlib

from qa_pipeline.models import Segment, Word

# Whisper's own compression-ratio threshold: text that compresses better than this is a loop.
LOOP_COMPRESSION_RATIO = 2.4
# A pause this long between two words of one channel ends an utterance.
UTTERANCE_PAUSE = 1.0

# faster-whisper's punctuation set for word anomaly scoring
PUNCTUATION = "\"'“¿([{-\"'.。,，!！?？:：”)]}、"
# A segment ending this close to the end of the audio counts as followed by silence.
END_MARGIN = 2.0


def word_anomaly(word: Word) -> float:
    """faster-whisper's score: improbable (< 0.15), too short (< 0.133 s) or too long (> 2 s) words."""
    duration = word.end - word.start
    score = 1.0 if word.probability < 0.15 else 0.0
    if duration < 0.133:
        score += (0.133 - duration) * 15
    if duration > 2.0:
        score += duration - 2.0
    return score


def is_anomalous(segment: Segment | None) -> bool:
    if segment is None or not segment.words:
        return False
    words = [w for w in segment.words if w.word.strip() not in PUNCTUATION][:8]
    score = sum(word_anomaly(w) for w in words)
    return score >= 3 or score + 0.01 >= len(words)


def skip_hallucinated_silence(segments: list[Segment], threshold: float, duration: float) -> list[Segment]:
    """One channel's segments (in time order) without anomalous ones surrounded by silence > threshold."""
    kept: list[Segment] = []
    last_end = 0.0
    for index, segment in enumerate(segments):
        if is_anomalous(segment):
            following = next((s for s in segments[index + 1 :] if s.words), None)
            next_start = following.words[0].start if following else duration
            silence_before = segment.start - last_end > threshold or segment.start < threshold
            silence_after = (
                next_start - segment.end > threshold
                or is_anomalous(following)
                or duration - segment.end < END_MARGIN
            )
            if silence_before and silence_after:
                continue
        kept.append(segment)
        last_end = segment.end
    return kept


def split_at_pauses(words: list[Word], pause: float = UTTERANCE_PAUSE) -> list[list[Word]]:
    """Words grouped into utterances: a new one starts after a pause of `pause` seconds or more."""
    groups: list[list[Word]] = []
    for word in words:
        if groups and word.start - groups[-1][-1].end < pause:
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def compression_ratio(text: str) -> float:
    """Whisper's measure of repetition: raw bytes over zlib-compressed bytes."""
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


def is_loop(segment: Segment) -> bool:
    return compression_ratio(segment.text) > LOOP_COMPRESSION_RATIO
