"""Hallucination guard: mark ASR segments that a QA score must not rest on.

Whisper invents fluent text in silence, hold music and noise ("Thank you for watching", "Субтитры ...").
Nothing is deleted: segments get flags, and later stages show flagged evidence as shaky. The confidence
thresholds are Whisper's own fallback thresholds (log-prob -1.0, no-speech 0.6, compression 2.4).
"""

from __future__ import annotations

import re

LOW_AVG_LOGPROB = -1.0
HIGH_NO_SPEECH_PROB = 0.6
HIGH_COMPRESSION_RATIO = 2.4
MIN_REPEATS = 3

# Phrases Whisper is known to produce from non-speech (subtitle credits and captions in its training
# data). Matched on normalised text; a real call almost never contains them.
KNOWN_HALLUCINATIONS = (
    "thank you for watching",
    "thanks for watching",
    "please subscribe",
    "subtitles by",
    "transcribed by",
    "продолжение следует",
    "субтитры сделал",
    "субтитры создавал",
    "редактор субтитров",
    "спокойная музыка",
    "динамичная музыка",
    "музыкальная заставка",
    "весёлая музыка",
    "веселая музыка",
)
# Single words that are ordinary speech inside a sentence but a caption when they are the whole segment.
WHOLE_SEGMENT_HALLUCINATIONS = frozenset({"music", "музыка", "you", "корректор"})
_WORD = re.compile(r"\w+", re.UNICODE)


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def segment_flags(
    text: str,
    avg_logprob: float,
    no_speech_prob: float,
    compression_ratio: float,
    previous_text: str | None = None,
) -> list[str]:
    """Flags for one segment; `previous_text` is the same speaker's previous segment."""
    flags: list[str] = []
    if avg_logprob < LOW_AVG_LOGPROB or no_speech_prob > HIGH_NO_SPEECH_PROB:
        flags.append("low_confidence")
    normalised = normalise(text)
    if (
        compression_ratio > HIGH_COMPRESSION_RATIO
        or has_repeated_phrase(normalised)
        or (previous_text is not None and normalised and normalised == normalise(previous_text))
    ):
        flags.append("repeated_phrase")
    if is_known_hallucination(normalised):
        flags.append("known_hallucination")
    return flags


def is_known_hallucination(normalised: str) -> bool:
    if normalised in WHOLE_SEGMENT_HALLUCINATIONS:
        return True
    padded = f" {normalised} "
    return any(f" {phrase} " in padded for phrase in KNOWN_HALLUCINATIONS)


def has_repeated_phrase(normalised: str, max_ngram: int = 4) -> bool:
    """True when some 1..4-word phrase occurs `MIN_REPEATS` times in a row (a decoding loop)."""
    words = normalised.split()
    for n in range(1, max_ngram + 1):
        for start in range(len(words) - n * MIN_REPEATS + 1):
            phrase = words[start : start + n]
            if all(words[start + k * n : start + (k + 1) * n] == phrase for k in range(1, MIN_REPEATS)):
                # "no no no" is speech; single-word loops only count when long.
                if n == 1 and not _long_single_word_loop(words, start):
                    continue
                return True
    return False


def _long_single_word_loop(words: list[str], start: int, min_run: int = 5) -> bool:
    run = 1
    while start + run < len(words) and words[start + run] == words[start]:
        run += 1
    return run >= min_run
