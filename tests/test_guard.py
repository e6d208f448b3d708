from qa_pipeline.transcription.guard import (
    has_repeated_phrase,
    is_known_hallucination,
    normalise,
    segment_flags,
)


def test_confident_speech_has_no_flags() -> None:
    assert segment_flags("Thank you for calling, how can I help?", -0.2, 0.05, 1.3) == []


def test_whispers_own_thresholds_mark_low_confidence() -> None:
    assert "low_confidence" in segment_flags("something", -1.2, 0.1, 1.2)
    assert "low_confidence" in segment_flags("something", -0.3, 0.7, 1.2)
    assert "low_confidence" not in segment_flags("something", -0.9, 0.5, 1.2)


def test_decoding_loops_are_repeated_phrases() -> None:
    assert has_repeated_phrase(normalise("I will check. I will check. I will check. I will check."))
    assert "repeated_phrase" in segment_flags("ok", -0.2, 0.0, 2.9)  # compression ratio of a loop


def test_short_natural_repetition_is_not_a_loop() -> None:
    assert not has_repeated_phrase(normalise("No, no, no, that is not what I said."))
    assert has_repeated_phrase(normalise("no no no no no no"))


def test_same_text_as_previous_segment_is_flagged() -> None:
    assert "repeated_phrase" in segment_flags("Hello?", -0.2, 0.1, 1.0, previous_text="hello")


def test_known_caption_phrases_are_hallucinations() -> None:
    assert is_known_hallucination(normalise("СПОКОЙНАЯ МУЗЫКА"))
    assert is_known_hallucination(normalise("Thank you for watching!"))
    assert is_known_hallucination(normalise("Music"))


def test_ordinary_words_inside_speech_are_not_hallucinations() -> None:
    assert not is_known_hallucination(normalise("Your music subscription was renewed."))
    assert not is_known_hallucination(normalise("Bye."))
