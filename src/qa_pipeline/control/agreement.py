"""Agreement statistics between two raters (AI and a person, or two people), with confidence intervals.

Most QA items pass most of the time, and then Cohen's kappa collapses even when raters almost always agree
(the kappa paradox). So kappa is never shown alone: raw agreement, Gwet's AC1 and the agreement on each
answer ("did the AI find the fails people found?") come with it. Coefficients follow Cohen (1960), Gwet
(2008) and McGraw & Wong (1996); the tests check them against scikit-learn, irrCAC and Shrout & Fleiss's
published example.

Intervals: raw agreement uses the Wilson score interval (a bootstrap of 30 agreeing pairs says [1, 1], which
would let an item be trusted on luck); the other coefficients use a percentile bootstrap over calls, leaving
out resamples where a coefficient is undefined, which scipy's bootstrap cannot do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel
from scipy import stats

Answer = str | int

Codes = npt.NDArray[np.int_]
Floats = npt.NDArray[np.float64]

CONFIDENCE = 0.95
BOOTSTRAP_REPS = 2000


class Interval(BaseModel):
    value: float | None
    low: float | None = None
    high: float | None = None


class ClassAgreement(BaseModel):
    """Agreement on one answer: 2·both / (times rater A gave it + times rater B gave it)."""

    answer: str
    by_a: int
    by_b: int
    both: int
    agreement: float | None


class CategoricalAgreement(BaseModel):
    n: int
    categories: list[str]
    agreement: Interval
    kappa: Interval
    ac1: Interval
    per_class: list[ClassAgreement]
    confusion: list[list[int]]  # rows: rater A's answer, columns: rater B's, in `categories` order
    alignment: float | None  # mean of 1 - |a - b| / item maximum, as QA tools report it


class NumericAgreement(BaseModel):
    n: int
    mae: Interval
    bias: Interval  # mean of a - b
    limits_of_agreement: tuple[float, float] | None  # Bland-Altman: bias ± 1.96 sd of differences
    icc: Interval  # ICC(A,1): two-way random, absolute agreement, single rater
    spearman: Interval


def cohen_kappa(a: Codes, b: Codes, k: int) -> float:
    """Codes 0..k-1; NaN when chance agreement is 1 (both raters used one answer only)."""
    p_a = np.bincount(a, minlength=k) / len(a)
    p_b = np.bincount(b, minlength=k) / len(b)
    observed = float(np.mean(a == b))
    expected = float(p_a @ p_b)
    return math.nan if expected >= 1.0 else (observed - expected) / (1.0 - expected)


def gwet_ac1(a: Codes, b: Codes, k: int) -> float:
    """Gwet's AC1 for two raters over the k possible answers of the item (not only those seen)."""
    if k < 2:
        return math.nan
    pi = (np.bincount(a, minlength=k) + np.bincount(b, minlength=k)) / (2 * len(a))
    observed = float(np.mean(a == b))
    expected = float(np.sum(pi * (1 - pi)) / (k - 1))
    return math.nan if expected >= 1.0 else (observed - expected) / (1.0 - expected)


def wilson_interval(agreeing: int, n: int, confidence: float = CONFIDENCE) -> Interval:
    if n == 0:
        return Interval(value=None)
    ci = stats.binomtest(agreeing, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Interval(value=agreeing / n, low=float(ci.low), high=float(ci.high))


def bootstrap(
    statistic: Callable[[Codes], float],
    n: int,
    *,
    reps: int = BOOTSTRAP_REPS,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> tuple[float | None, float | None]:
    """Percentile interval of `statistic(indices)` over resamples of n units; undefined resamples skipped."""
    if n < 2:
        return None, None
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n, n)) for _ in range(reps)])
    values = values[np.isfinite(values)]
    if len(values) < reps / 2:  # mostly undefined: no honest interval
        return None, None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def categorical_agreement(
    a: Sequence[Answer],
    b: Sequence[Answer],
    categories: Sequence[Answer],
    *,
    item_max: int = 1,
    reps: int = BOOTSTRAP_REPS,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> CategoricalAgreement:
    """Two raters' answers to one item on the same calls; `categories` are every answer the item allows."""
    if len(a) != len(b):
        raise ValueError("both raters must answer the same calls")
    labels = [str(c) for c in categories]
    index = {str(c): i for i, c in enumerate(categories)}
    unknown = {str(x) for x in [*a, *b]} - set(index)
    if unknown:
        raise ValueError(f"answers not among the item's categories: {sorted(unknown)}")
    k = len(labels)
    codes_a = np.array([index[str(x)] for x in a], dtype=int)
    codes_b = np.array([index[str(x)] for x in b], dtype=int)
    n = len(codes_a)
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (codes_a, codes_b), 1)
    per_class = []
    for i, label in enumerate(labels):
        by_a, by_b, both = int(confusion[i].sum()), int(confusion[:, i].sum()), int(confusion[i, i])
        if by_a or by_b:
            per_class.append(
                ClassAgreement(
                    answer=label, by_a=by_a, by_b=by_b, both=both, agreement=2 * both / (by_a + by_b)
                )
            )

    def ci(coefficient: Callable[[Codes, Codes, int], float]) -> Interval:
        if n == 0:
            return Interval(value=None)
        low, high = bootstrap(
            lambda idx: coefficient(codes_a[idx], codes_b[idx], k),
            n,
            reps=reps,
            confidence=confidence,
            seed=seed,
        )
        return Interval(value=_finite(coefficient(codes_a, codes_b, k)), low=low, high=high)

    return CategoricalAgreement(
        n=n,
        categories=labels,
        agreement=wilson_interval(int(np.trace(confusion)), n, confidence),
        kappa=ci(cohen_kappa),
        ac1=ci(gwet_ac1),
        per_class=per_class,
        confusion=confusion.tolist(),
        alignment=_alignment(a, b, item_max) if n else None,
    )


def _alignment(a: Sequence[Answer], b: Sequence[Answer], item_max: int) -> float:
    """1 - |a - b| / item maximum per call; yes = maximum, no = 0; N/A and categories (a choice item's
    answers) match only themselves."""

    def points(x: Answer) -> float | None:
        if x == "yes":
            return float(item_max)
        if x == "no":
            return 0.0
        try:
            return float(x)
        except ValueError:  # "na" or a category
            return None

    scores = []
    for x, y in zip(a, b, strict=True):
        px, py = points(x), points(y)
        if px is None or py is None:
            scores.append(1.0 if px is None and py is None and x == y else 0.0)
        else:
            scores.append(1.0 - abs(px - py) / item_max)
    return float(np.mean(scores))


def icc_a1(ratings: Floats) -> float:
    """ICC(A,1) of an (n targets x k raters) matrix: two-way random effects, absolute agreement."""
    n, k = ratings.shape
    if n < 2 or k < 2:
        return math.nan
    grand = ratings.mean()
    ss_rows = k * float(np.sum((ratings.mean(axis=1) - grand) ** 2))
    ss_cols = n * float(np.sum((ratings.mean(axis=0) - grand) ** 2))
    ss_error = float(np.sum((ratings - grand) ** 2)) - ss_rows - ss_cols
    ms_rows = ss_rows / (n - 1)
    ms_cols = ss_cols / (k - 1)
    ms_error = ss_error / ((n - 1) * (k - 1))
    denominator = ms_rows + (k - 1) * ms_error + k * (ms_cols - ms_error) / n
    return math.nan if denominator <= 0 else (ms_rows - ms_error) / denominator


def _spearman(a: Floats, b: Floats) -> float:
    if len(a) < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan
    return float(stats.spearmanr(a, b).statistic)


def numeric_agreement(
    a: Sequence[float],
    b: Sequence[float],
    *,
    reps: int = BOOTSTRAP_REPS,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> NumericAgreement:
    """Two raters' call totals (0-100) on the same calls."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    n = len(x)
    if n == 0:
        empty = Interval(value=None)
        return NumericAgreement(
            n=0, mae=empty, bias=empty, limits_of_agreement=None, icc=empty, spearman=empty
        )
    diff = x - y

    def ci(statistic: Callable[[Codes], float]) -> Interval:
        low, high = bootstrap(statistic, n, reps=reps, confidence=confidence, seed=seed)
        return Interval(value=_finite(statistic(np.arange(n))), low=low, high=high)

    limits = None
    if n >= 2:
        sd = float(np.std(diff, ddof=1))
        limits = (float(diff.mean() - 1.96 * sd), float(diff.mean() + 1.96 * sd))
    return NumericAgreement(
        n=n,
        mae=ci(lambda i: float(np.mean(np.abs(diff[i])))),
        bias=ci(lambda i: float(np.mean(diff[i]))),
        limits_of_agreement=limits,
        icc=ci(lambda i: icc_a1(np.column_stack([x[i], y[i]]))),
        spearman=ci(lambda i: _spearman(x[i], y[i])),
    )


def sample_size_for_width(
    width: float, *, expected: float = 0.5, confidence: float = CONFIDENCE, population: int | None = None
) -> int:
    """Reviews needed so an agreement rate's interval is about `width` wide (normal approximation,
    finite-population corrected when the period's call count is known)."""
    if not 0 < width < 1:
        raise ValueError("the interval width must be between 0 and 1, e.g. 0.1 for ±5 points")
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    n0 = z * z * expected * (1 - expected) / (width / 2) ** 2
    if population:
        n0 = n0 / (1 + (n0 - 1) / population)
        return min(population, math.ceil(n0))
    return math.ceil(n0)
