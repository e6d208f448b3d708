"""Batched decoding's output made like sequential decoding's: utterances, loops, hallucinated silence."""

from __future__ import annotations

from qa_pipeline.models import Segment, Word
from qa_pipeline.transcription.batched_output import (
    compression_ratio,
    is_anomalous,
    is_loop,
    skip_hallucinated_silence,
    split_at_pauses,
)


def segment(start: float, text: str, probability: float, word_seconds: float = 0.4) -> Segment:
    words = [
        Word(
            start=start + i * word_seconds,
            end=start + (i + 1) * word_seconds,
            word=f" {w}",
            probability=probability,
        )
        for i, w in enumerate(text.split())
    ]
    return Segment(
        speaker="agent", start=start, end=words[-1].end, text=text, words=words,
        avg_logprob=-0.3, no_speech_prob=0.1, compression_ratio=1.2,
    )  # fmt: skip


def test_improbable_or_implausibly_timed_words_make_a_segment_anomalous() -> None:
    assert not is_anomalous(segment(0, "thank you for calling", 0.9))
    assert is_anomalous(segment(0, "thank you for watching", 0.05))
    assert is_anomalous(segment(0, "thank you for watching", 0.9, word_seconds=0.03))  # too short
    assert is_anomalous(segment(0, "so", 0.9, word_seconds=6.0))  # one word stretched over 6 s
    assert not is_anomalous(None)


def test_an_anomalous_segment_alone_in_silence_is_dropped() -> None:
    speech = [segment(1.0, "good morning how can I help", 0.9), segment(30.0, "is there anything else", 0.9)]
    invented = segment(15.0, "thank you for watching", 0.05)
    kept = skip_hallucinated_silence([speech[0], invented, speech[1]], threshold=2.0, duration=40.0)
    assert kept == speech


def test_the_same_words_between_speech_are_kept() -> None:
    """Silence on one side only: an improbable segment inside a conversation is real speech said badly."""
    before = segment(10.0, "let me check that", 0.9)  # ends at 11.6
    mumbled = segment(12.0, "uh the account", 0.05)  # 0.4 s after the last word
    after = segment(14.5, "yes I see it", 0.9)
    kept = skip_hallucinated_silence([before, mumbled, after], threshold=2.0, duration=40.0)
    assert kept == [before, mumbled, after]


def test_trailing_invention_at_the_end_of_the_audio_is_dropped() -> None:
    speech = segment(5.0, "goodbye", 0.9)  # ends at 5.4
    tail = segment(37.0, "subtitles by the community", 0.02)
    assert skip_hallucinated_silence([speech, tail], threshold=2.0, duration=39.0) == [speech]
    # and nothing is dropped without a threshold's worth of silence before it
    close = segment(5.8, "subtitles by the community", 0.02)
    assert skip_hallucinated_silence([speech, close], threshold=2.0, duration=39.0) == [speech, close]


def test_a_chunk_of_one_channel_splits_into_utterances_at_pauses() -> None:
    first = segment(1.0, "good morning how can I help", 0.9)  # words end at 3.4
    second = segment(9.0, "let me check", 0.9)  # the other side spoke in between
    words = first.words + second.words
    groups = split_at_pauses(words)
    assert [" ".join(w.word.strip() for w in g) for g in groups] == [
        "good morning how can I help",
        "let me check",
    ]
    assert split_at_pauses(words, pause=10.0) == [words]
    assert split_at_pauses([]) == []


def test_loops_are_told_by_how_well_the_text_compresses() -> None:
    looped = segment(0, "It is 12" + ",000" * 40, 0.9, word_seconds=0.2)
    assert compression_ratio(looped.text) > 2.4 and is_loop(looped)
    said = segment(0, "Your next bill will go to twelve Mill Lane, and the final reading is booked.", 0.9)
    assert not is_loop(said)
    assert compression_ratio("") == 0.0


def test_only_the_looped_utterance_of_a_batched_chunk_is_flagged_as_a_loop() -> None:
    """Batched decoding gives one compression ratio per 30 s chunk; a chunk holding one looped number
    (demo call en02: "It is 12,000,000,000,...") flagged every utterance cut from it, a customer's
    ordinary sentences included."""
    from types import SimpleNamespace

    from qa_pipeline.transcription.transcribe import Transcriber

    said = "Hello, I moved out last week and I need to update my address."
    looped = "It is " + "000," * 40
    tokens = [*said.split(), *looped.split()]
    starts = [0.4 * i for i in range(len(said.split()))] + [
        10.0 + 0.2 * i for i in range(len(looped.split()))
    ]
    words = [
        SimpleNamespace(start=s, end=s + 0.15, word=" " + t, probability=0.8)
        for s, t in zip(starts, tokens, strict=True)
    ]
    chunk = SimpleNamespace(
        text=f" {said} {looped}", start=0.0, end=words[-1].end, words=words,
        avg_logprob=-0.3, no_speech_prob=0.05, compression_ratio=3.39,
    )  # fmt: skip
    first, second = Transcriber._segments([chunk], "customer", utterances=True)
    assert first.text == said and "repeated_phrase" not in first.flags
    assert "repeated_phrase" in second.flags and second.compression_ratio > 2.4
