import pytest

from qa_pipeline.transcription.wer import normalise_for_wer, word_error_rate


def test_case_punctuation_and_yo_are_not_errors() -> None:
    assert normalise_for_wer("Всё хорошо, Ёж!") == "все хорошо еж"
    assert word_error_rate("Hello, World.", "hello world") == 0.0


def test_counts_substitutions_insertions_deletions() -> None:
    assert word_error_rate("a b c d", "a x c") == pytest.approx(0.5)  # one substitution, one deletion
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "words") == 1.0
