"""Agreement statistics against reference libraries and published worked examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from irrCAC.raw import CAC
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from qa_pipeline.control.agreement import (
    categorical_agreement,
    icc_a1,
    numeric_agreement,
    sample_size_for_width,
    wilson_interval,
)


def _pairs(both_yes: int, yes_no: int, no_yes: int, both_no: int) -> tuple[list[str], list[str]]:
    a = ["yes"] * (both_yes + yes_no) + ["no"] * (no_yes + both_no)
    b = ["yes"] * both_yes + ["no"] * yes_no + ["yes"] * no_yes + ["no"] * both_no
    return a, b


def test_cohens_worked_example_from_the_literature() -> None:
    # The textbook 2x2 example (20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no): p_o 0.70, p_e 0.50, kappa 0.40.
    a, b = _pairs(20, 5, 10, 15)
    result = categorical_agreement(a, b, ["yes", "no"], reps=200)
    assert result.agreement.value == pytest.approx(0.70)
    assert result.kappa.value == pytest.approx(0.40)
    assert result.confusion == [[20, 5], [10, 15]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kappa_and_ac1_match_sklearn_and_irrcac(seed: int) -> None:
    rng = np.random.default_rng(seed)
    categories = ["yes", "no", "na"]
    a = rng.choice(categories, size=40, p=[0.7, 0.2, 0.1]).tolist()
    b = [x if rng.random() < 0.75 else str(rng.choice(categories)) for x in a]
    result = categorical_agreement(a, b, categories, reps=200)
    assert result.kappa.value == pytest.approx(cohen_kappa_score(a, b), abs=1e-9)
    reference = CAC(pd.DataFrame({"a": a, "b": b}), categories=categories).gwet()["est"]
    assert result.ac1.value == pytest.approx(reference["coefficient_value"], abs=1e-4)


def test_kappa_paradox_is_visible_beside_raw_agreement_and_ac1() -> None:
    # An item that passes 95% of the time and a judge that always says yes: 95% raw agreement, kappa 0,
    # AC1 high, and the per-answer view shows the judge never matched a single "no".
    a = ["yes"] * 40
    b = ["yes"] * 38 + ["no"] * 2
    result = categorical_agreement(a, b, ["yes", "no"], reps=200)
    assert result.agreement.value == pytest.approx(0.95)
    assert result.kappa.value == pytest.approx(0.0)
    assert result.ac1.value is not None and result.ac1.value > 0.9
    by_answer = {c.answer: c for c in result.per_class}
    assert by_answer["no"].agreement == 0.0 and by_answer["no"].by_b == 2 and by_answer["no"].both == 0


def test_kappa_is_undefined_not_invented_when_both_raters_give_one_answer() -> None:
    result = categorical_agreement(["yes"] * 10, ["yes"] * 10, ["yes", "no"], reps=200)
    assert result.kappa.value is None
    assert result.agreement.value == 1.0
    # 10 of 10 is not proof of perfection: the Wilson interval's lower bound is about 0.72.
    assert result.agreement.low == pytest.approx(0.7225, abs=1e-3)


def test_wilson_interval_matches_the_closed_form() -> None:
    k, n, z = 27, 40, stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    interval = wilson_interval(k, n)
    assert interval.low == pytest.approx(centre - half) and interval.high == pytest.approx(centre + half)


def test_bootstrap_intervals_are_seeded_and_contain_the_estimate() -> None:
    a, b = _pairs(30, 4, 6, 10)
    first = categorical_agreement(a, b, ["yes", "no"], reps=500, seed=7)
    again = categorical_agreement(a, b, ["yes", "no"], reps=500, seed=7)
    assert first.ac1 == again.ac1
    assert first.ac1.low is not None and first.ac1.high is not None and first.ac1.value is not None
    assert first.ac1.low < first.ac1.value < first.ac1.high


def test_alignment_on_a_scale_item_is_one_minus_relative_distance() -> None:
    result = categorical_agreement([3, 2, 0], [3, 3, 2], [0, 1, 2, 3], item_max=3, reps=100)
    assert result.alignment == pytest.approx((1 + (1 - 1 / 3) + (1 - 2 / 3)) / 3)


def test_icc_matches_shrout_and_fleiss_published_example() -> None:
    # Shrout & Fleiss (1979), Table 2: six targets, four judges; ICC(2,1) = 0.29.
    ratings = np.array(
        [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], dtype=float
    )
    assert icc_a1(ratings) == pytest.approx(0.29, abs=0.005)


def test_totals_statistics_by_hand() -> None:
    ai = [80.0, 60.0, 100.0, 0.0, 90.0]
    human = [70.0, 65.0, 100.0, 0.0, 80.0]
    result = numeric_agreement(ai, human, reps=300)
    diff = np.array(ai) - np.array(human)  # 10, -5, 0, 0, 10
    assert result.mae.value == pytest.approx(5.0)
    assert result.bias.value == pytest.approx(3.0)
    sd = np.std(diff, ddof=1)
    assert result.limits_of_agreement == pytest.approx((3.0 - 1.96 * sd, 3.0 + 1.96 * sd))
    assert result.spearman.value == pytest.approx(stats.spearmanr(ai, human).statistic)
    assert result.icc.value is not None and 0.8 < result.icc.value <= 1.0


def test_sample_size_from_interval_width() -> None:
    assert sample_size_for_width(0.1) == 385  # ±5 points at 95%: the classic 384.1
    assert sample_size_for_width(0.1, population=1000) == 278
    assert sample_size_for_width(0.2, expected=0.9, population=12) <= 12
    with pytest.raises(ValueError):
        sample_size_for_width(1.5)
