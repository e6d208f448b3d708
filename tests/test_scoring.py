"""Scoring maths on hand-computed cases."""

import pytest

from qa_pipeline.checklist import Checklist
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import ItemVerdict
from qa_pipeline.scoring import score_call

CHECKLIST = Checklist.model_validate(
    {
        "id": "t",
        "version": "2",
        "language": "en",
        "title": "Test",
        "sections": [
            {
                "id": "s",
                "title": "S",
                "items": [
                    {"id": "greeting", "question": "Greeted?", "weight": 10},
                    {"id": "hold", "question": "Hold etiquette?", "weight": 5, "allow_na": True},
                    {
                        "id": "clarity",
                        "question": "How clear?",
                        "weight": 20,
                        "answer": "scale",
                        "scale_max": 4,
                    },
                    {"id": "polite", "question": "Polite?", "weight": 10, "critical": "fatal"},
                    {"id": "correct", "question": "Correct info?", "weight": 5, "critical": "flag"},
                ],
            }
        ],
    }
)


def verdicts(**answers: object) -> list[ItemVerdict]:
    return [ItemVerdict(item_id=k, answer=v) for k, v in answers.items()]  # type: ignore[arg-type]


def test_weighted_total_with_scale() -> None:
    card = score_call(
        CHECKLIST, "c", verdicts(greeting="yes", hold="no", clarity=3, polite="yes", correct="yes")
    )
    # earned 10 + 0 + 20*3/4 + 10 + 5 = 40 of 50
    assert card.total == 80.0
    assert card.complete and card.failed_critical == [] and card.flagged_critical == []


def test_na_leaves_the_denominator() -> None:
    card = score_call(
        CHECKLIST, "c", verdicts(greeting="no", hold="na", clarity=4, polite="yes", correct="yes")
    )
    # earned 0 + 20 + 10 + 5 = 35 of 45
    assert card.total == pytest.approx(77.78)


def test_fatal_no_zeroes_the_total() -> None:
    card = score_call(
        CHECKLIST, "c", verdicts(greeting="yes", hold="yes", clarity=4, polite="no", correct="yes")
    )
    assert card.total == 0.0
    assert card.failed_critical == ["polite"]


def test_flag_no_keeps_the_total_and_flags() -> None:
    card = score_call(
        CHECKLIST, "c", verdicts(greeting="yes", hold="yes", clarity=4, polite="yes", correct="no")
    )
    assert card.total == 90.0  # 45 of 50
    assert card.flagged_critical == ["correct"] and card.failed_critical == []


def test_items_needing_a_person_make_a_provisional_total() -> None:
    answers = verdicts(greeting="yes", hold="na", clarity=2, polite="yes")
    answers.append(ItemVerdict(item_id="correct", answer=None, needs_human=True))
    card = score_call(CHECKLIST, "c", answers)
    assert not card.complete
    assert card.total == pytest.approx(100 * (10 + 10 + 10) / 40)


def test_na_where_not_allowed_and_out_of_range_scale_are_errors() -> None:
    with pytest.raises(ConfigError, match="N/A is not allowed"):
        score_call(CHECKLIST, "c", verdicts(greeting="na"))
    with pytest.raises(ConfigError, match=r"0\.\.4"):
        score_call(CHECKLIST, "c", verdicts(clarity=5))
    with pytest.raises(ConfigError, match="not in checklist"):
        score_call(CHECKLIST, "c", verdicts(nonsense="yes"))


def test_a_total_on_a_minority_of_the_points_is_not_the_calls_score() -> None:
    # Decided: greeting (10) and correct (5) of 50 points; clarity, polite and hold wait for people.
    answers = verdicts(greeting="yes", correct="yes")
    answers += [ItemVerdict(item_id=i, answer=None, needs_human=True) for i in ("hold", "clarity", "polite")]
    card = score_call(CHECKLIST, "c", answers)
    assert card.total is None
    assert card.points_share == pytest.approx(15 / 50)
    assert card.provisional == ["items_need_human", "minority_of_points"]


def test_a_certain_fatal_fail_zeroes_even_a_minority_total() -> None:
    answers = verdicts(polite="no")
    answers += [ItemVerdict(item_id=i, answer=None, needs_human=True) for i in ("greeting", "clarity")]
    card = score_call(CHECKLIST, "c", answers)
    assert card.total == 0.0 and card.failed_critical == ["polite"]


def test_an_answer_waiting_for_confirmation_counts_and_keeps_the_total_provisional() -> None:
    answers = verdicts(greeting="yes", hold="yes", clarity=4, polite="yes")
    answers.append(
        ItemVerdict(item_id="correct", answer="no", needs_human=True, flags=["manipulation_sensitive"])
    )
    card = score_call(CHECKLIST, "c", answers)
    assert card.total == 90.0 and not card.complete and card.flagged_critical == ["correct"]


def test_an_uncertain_fatal_verdict_makes_the_total_provisional_until_a_person_answers() -> None:
    answers = verdicts(greeting="yes", hold="yes", clarity=4, correct="yes")
    answers.append(ItemVerdict(item_id="polite", answer=None, needs_human=True, flags=["uncertain_fatal"]))
    card = score_call(CHECKLIST, "c", answers)
    assert card.total == 100.0 and "uncertain_fatal" in card.provisional and not card.failed_critical
    confirmed = [
        *answers[:-1],
        ItemVerdict(item_id="polite", answer="no", flags=["uncertain_fatal"], source="human"),
    ]
    card = score_call(CHECKLIST, "c", confirmed)
    assert card.total == 0.0 and card.provisional == []
