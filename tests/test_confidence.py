"""Confidence maths on hand-computed token distributions."""

import math

import pytest

from qa_pipeline.judging.confidence import Generation, answer_confidence, answer_positions

TEXT = '{"greeting": {"evidence": [], "rationale": "ok", "answer": "yes"}, "hold": {"answer": "na"}}'


def generation(alternatives: dict[int, dict[str, float]], offsets: list[int]) -> Generation:
    return Generation(text=TEXT, token_offsets=offsets, alternatives=lambda i: alternatives.get(i, {}))


def test_answer_positions_follow_item_order() -> None:
    positions = answer_positions(TEXT)
    assert [TEXT[p : p + 3] for p in positions] == ["yes", 'na"']


def test_escaped_answer_key_inside_a_quote_is_ignored() -> None:
    text = '{"a": {"evidence": ["he said \\"answer\\": no"], "rationale": "", "answer": "no"}}'
    assert [text[p : p + 2] for p in answer_positions(text)] == ["no"]


def test_confidence_is_the_chosen_share_of_the_allowed_mass() -> None:
    position = answer_positions(TEXT)[0]
    # The token at `position` is 'y'; at that step the model gave y: 0.6, yes: 0.1, no: 0.2, n: 0.05, and
    # 0.05 to tokens that start no allowed answer.
    alternatives = {
        1: {
            "y": math.log(0.6),
            "yes": math.log(0.1),
            "no": math.log(0.2),
            "n": math.log(0.05),
            "x": math.log(0.05),
        }
    }
    gen = generation(alternatives, [0, position, position + 3])
    assert answer_confidence(gen, position, "yes", ["yes", "no"]) == pytest.approx(0.7 / 0.95)
    assert answer_confidence(gen, position, "no", ["yes", "no"]) == pytest.approx(0.25 / 0.95)


def test_a_token_that_also_covers_the_opening_quote_is_handled() -> None:
    position = answer_positions(TEXT)[0]
    # One token ' "yes' starts one character before the value.
    alternatives = {1: {'"yes': math.log(0.3), '"no': math.log(0.1), '"': math.log(0.5)}}
    gen = generation(alternatives, [0, position - 1, position + 3])
    assert answer_confidence(gen, position, "yes", ["yes", "no"]) == pytest.approx(0.75)


def test_unknown_distribution_gives_no_confidence() -> None:
    position = answer_positions(TEXT)[0]
    gen = generation({}, [0, position])
    assert answer_confidence(gen, position, "yes", ["yes", "no"]) is None


def test_a_token_that_starts_two_answers_counts_for_neither() -> None:
    position = answer_positions(TEXT)[1]  # the "na" of the hold item
    # "n" starts both "no" and "na"; only the whole words say which answer the model meant.
    alternatives = {1: {"n": math.log(0.6), "no": math.log(0.3), "na": math.log(0.1)}}
    gen = generation(alternatives, [0, position, position + 2])
    assert answer_confidence(gen, position, "no", ["yes", "no", "na"]) == pytest.approx(0.75)


def test_a_scale_digit_that_starts_ten_counts_for_neither_one_nor_ten() -> None:
    text = '{"clarity": {"answer": 1}}'
    position = answer_positions(text)[0]
    alternatives = {1: {"1": math.log(0.5), "10": math.log(0.2), "2": math.log(0.3)}}
    gen = Generation(text=text, token_offsets=[0, position, position + 1], alternatives=alternatives.get)
    options = [str(n) for n in range(1, 11)]
    assert answer_confidence(gen, position, "2", options, closing="}") == pytest.approx(0.6)
