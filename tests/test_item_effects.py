"""Checklist validity on synthetic outcomes with effects planted: a real effect is found with the right
sign and an interval covering the true value; an item confounded with the queue is not blamed once the
queue is adjusted for; with nothing planted nothing is claimed. Outcomes are joined to calls as the
survey says (a call, or a customer's latest call), and repeat contacts come from customer ids and dates."""

from __future__ import annotations

import numpy as np
import pytest

from qa_pipeline.models import CallMetadata, ItemVerdict, Scorecard
from qa_pipeline.voc.effects import call_outcomes, item_effects
from qa_pipeline.voc.outcomes import SurveyAnswer

QUEUES = {"easy": (4.5, 0.15), "usual": (4.0, 0.25), "hard": (3.1, 0.6)}  # base CSAT, fail rate


def _synthetic(seed: int, empathy_effect: float, n: int = 900):  # type: ignore[no-untyped-def]
    """Calls in three queues; the hard queue fails both items more and has unhappier customers. Failing
    empathy costs `empathy_effect` CSAT points; closing has no effect at all."""
    rng = np.random.default_rng(seed)
    cards, outcomes, strata = [], {}, {}
    for number in range(n):
        queue = list(QUEUES)[number % 3]
        base, fail_rate = QUEUES[queue]
        answers = {item: ("no" if rng.random() < fail_rate else "yes") for item in ("empathy", "closing")}
        csat = base + (empathy_effect if answers["empathy"] == "no" else 0.0) + rng.normal(0, 0.7)
        call_id = f"c{number:04d}"
        verdicts = [ItemVerdict(item_id=item, answer=answer) for item, answer in answers.items()]  # type: ignore[arg-type]
        cards.append(
            Scorecard(
                call_id=call_id,
                checklist_id="cl",
                checklist_version="1",
                verdicts=verdicts,
                total=None,
                complete=True,
            )
        )
        outcomes[call_id] = {"csat": float(csat)}
        strata[call_id] = ("billing", queue)
    return cards, outcomes, strata


def test_a_planted_effect_is_found_and_a_confounded_item_is_not_blamed() -> None:
    cards, outcomes, strata = _synthetic(seed=0, empathy_effect=-0.8)
    report = item_effects(cards, outcomes, strata, adjusted_for=["reason", "queue"], reps=1000)
    by_item = {e.item_id: e for e in report.effects}
    empathy, closing = by_item["empathy"], by_item["closing"]
    assert empathy.verdict == "failing it goes with worse outcomes"
    assert empathy.low is not None and empathy.high is not None and empathy.low <= -0.8 <= empathy.high
    assert empathy.difference is not None and empathy.difference < 0
    # closing fails where customers are unhappy anyway: raw, it looks harmful; adjusted, no evidence
    assert closing.raw_difference is not None and closing.raw_difference < -0.3
    assert (
        closing.verdict == "no evidence" and closing.low is not None and closing.low < 0 < (closing.high or 0)
    )
    assert report.comparisons == 2 and empathy.strata == 3


def test_nothing_planted_nothing_claimed() -> None:
    cards, outcomes, strata = _synthetic(seed=1, empathy_effect=0.0)
    report = item_effects(cards, outcomes, strata, adjusted_for=["reason", "queue"], reps=1000)
    assert [e.verdict for e in report.effects] == ["no evidence", "no evidence"]


def test_too_few_failing_calls_say_so() -> None:
    cards, outcomes, strata = _synthetic(seed=2, empathy_effect=-0.8, n=9)  # 9 calls: never 5 of each
    report = item_effects(cards, outcomes, strata, adjusted_for=["queue"], reps=200)
    assert {e.verdict for e in report.effects} == {"too few calls"}


def test_outcomes_join_calls_and_customers_and_repeat_contacts_come_from_metadata() -> None:
    metadata = {
        "a1": CallMetadata(customer_id="cust-1", date="2026-10-01"),
        "a2": CallMetadata(customer_id="cust-1", date="2026-10-05"),  # again within 7 days
        "a3": CallMetadata(customer_id="cust-1", date="2026-10-20"),
        "b1": CallMetadata(customer_id="cust-2", date="2026-10-02"),
        "c1": CallMetadata(),
    }
    surveys = [
        SurveyAnswer(call_id="c1", csat=2),
        SurveyAnswer(customer_id="cust-1", date="2026-10-06", nps=3),  # about a2, the latest before it
        SurveyAnswer(call_id="unknown-call", csat=5),
    ]
    found = call_outcomes(surveys, metadata, repeat_days=7)
    assert found["a1"] == {"repeat": 1.0}
    assert found["a2"] == {"repeat": 0.0, "nps": 3.0}
    assert found["a3"] == {"repeat": 0.0} and found["b1"] == {"repeat": 0.0}
    assert found["c1"] == {"csat": 2.0}
    assert "unknown-call" not in found


@pytest.mark.parametrize("seed", [3])
def test_repeat_contacts_count_against_failing_with_the_right_sign(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cards, outcomes, strata = [], {}, {}
    for number in range(600):
        fails = rng.random() < 0.3
        repeat = float(rng.random() < (0.45 if fails else 0.15))
        call_id = f"r{number}"
        cards.append(
            Scorecard(
                call_id=call_id,
                checklist_id="cl",
                checklist_version="1",
                verdicts=[ItemVerdict(item_id="solution", answer="no" if fails else "yes")],
                total=None,
                complete=True,
            )
        )
        outcomes[call_id] = {"repeat": repeat}
        strata[call_id] = ("(unknown)",)
    [effect] = item_effects(cards, outcomes, strata, adjusted_for=[], reps=1000).effects
    assert effect.verdict == "failing it goes with worse outcomes"  # more repeats is worse
    assert effect.difference is not None and effect.low is not None and effect.high is not None
    assert effect.low <= 0.30 <= effect.high
