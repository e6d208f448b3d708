"""Checklist validity: for each item, how customers' outcomes (CSAT, NPS, a repeat contact within N
days) differ between calls that pass it and calls that fail it, adjusted for why the customer called and
the queue, with intervals.

Adjustment is by stratification: within each (reason, queue) stratum holding both passing and failing
calls, the difference of means (fail minus pass) is taken, and the strata are combined with weights
n_pass * n_fail / (n_pass + n_fail), the weights of the Mantel-Haenszel estimator, so that a queue where
hard calls both fail more items and leave customers less happy does not make an innocent item look
harmful. Intervals come from a bootstrap that resamples calls within strata. Every item and outcome is
one more chance of a false finding, so the intervals are Bonferroni-widened over all the comparisons
made, and an effect is claimed only when that interval excludes zero; otherwise the item says "no
evidence" (which is not evidence of no effect)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date as Date
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from qa_pipeline.models import CallMetadata, Scorecard
from qa_pipeline.voc.outcomes import SurveyAnswer
from qa_pipeline.voc.repeats import DEFAULT_REPEAT_DAYS, ContactHistory, contact_histories, day_of

Outcome = Literal["csat", "nps", "repeat"]
Floats = npt.NDArray[np.float64]
EffectVerdict = Literal[
    "failing it goes with worse outcomes",
    "failing it goes with better outcomes",
    "no evidence",
    "too few calls",
]
HIGHER_IS_BETTER = {"csat": True, "nps": True, "repeat": False}
MIN_CALLS = 5  # passing and failing calls an item needs before anything is said
CONFIDENCE = 0.95


class ItemEffect(BaseModel):
    checklist_id: str
    item_id: str
    outcome: Outcome
    n_pass: int
    n_fail: int
    strata: int
    raw_difference: float | None
    difference: float | None
    low: float | None
    high: float | None
    verdict: Literal[
        "failing it goes with worse outcomes",
        "failing it goes with better outcomes",
        "no evidence",
        "too few calls",
    ]


class EffectsReport(BaseModel):
    adjusted_for: list[str]
    confidence: float
    comparisons: int
    effects: list[ItemEffect]


def call_outcomes(
    surveys: Iterable[SurveyAnswer],
    metadata: Mapping[str, CallMetadata],
    repeat_days: int = DEFAULT_REPEAT_DAYS,
    histories: Mapping[str, ContactHistory] | None = None,
) -> dict[str, dict[Outcome, float]]:
    """Each call's outcomes: its own survey answer, else its customer's answer given on or after it (the
    customer's latest call before the answer carries it); `repeat` is 1 when the same customer called
    again within `repeat_days` after the call, 0 when not (only for calls with a customer and a date)."""
    found: dict[str, dict[Outcome, float]] = defaultdict(dict)
    by_customer: dict[str, list[tuple[Date, str]]] = defaultdict(list)
    for call_id, meta in metadata.items():
        when = day_of(meta.date)
        if meta.customer_id and when:
            by_customer[meta.customer_id].append((when, call_id))
    for calls in by_customer.values():
        calls.sort()
    if histories is None:
        histories = contact_histories(metadata, repeat_days)
    for call_id, history in histories.items():
        found[call_id]["repeat"] = 1.0 if history.repeated else 0.0
    for survey in surveys:
        target = survey.call_id
        if target is None and survey.customer_id in by_customer:
            answered = day_of(survey.date)
            before = [c for d, c in by_customer[survey.customer_id] if answered is None or d <= answered]
            target = before[-1] if before else None
        if target is None or target not in metadata:
            continue
        for name in ("csat", "nps"):
            value = getattr(survey, name)
            if value is not None:
                found[target][name] = float(value)
    return dict(found)


def item_effects(
    cards: Iterable[Scorecard],
    outcomes: Mapping[str, Mapping[Outcome, float]],
    strata: Mapping[str, tuple[str, ...]],
    *,
    adjusted_for: list[str],
    confidence: float = CONFIDENCE,
    reps: int = 2000,
    seed: int = 0,
) -> EffectsReport:
    """`cards`: the scorecards people stand behind; `strata[call_id]`: the call's (reason, queue, ...)."""
    # (checklist, item, outcome) -> stratum -> (pass values, fail values)
    groups: dict[tuple[str, str, Outcome], dict[tuple[str, ...], tuple[list[float], list[float]]]] = (
        defaultdict(lambda: defaultdict(lambda: ([], [])))
    )
    for card in cards:
        values = outcomes.get(card.call_id)
        if not values:
            continue
        stratum = strata.get(card.call_id, ("(unknown)",))
        for verdict in card.verdicts:
            if verdict.answer not in ("yes", "no"):
                continue
            for outcome, value in values.items():
                pair = groups[(card.checklist_id, verdict.item_id, outcome)][stratum]
                pair[verdict.answer == "no"].append(value)
    testable = [key for key, by in groups.items() if min(_counts(by)) >= MIN_CALLS]
    level = 1 - (1 - confidence) / max(1, len(testable))
    rng = np.random.default_rng(seed)
    effects = []
    for key in sorted(groups):
        by_stratum = groups[key]
        n_pass, n_fail = _counts(by_stratum)
        raw = None
        if n_pass and n_fail:
            every_pass = [v for p, _ in by_stratum.values() for v in p]
            every_fail = [v for _, f in by_stratum.values() for v in f]
            raw = float(np.mean(every_fail) - np.mean(every_pass))
        both = {s: (np.array(p), np.array(f)) for s, (p, f) in by_stratum.items() if p and f}
        difference = low = high = None
        effect: EffectVerdict = "too few calls"
        if key in testable and both:
            difference = _combined(both)
            boot = _bootstrap(both, reps, rng)
            low, high = (float(q) for q in np.quantile(boot, [(1 - level) / 2, 1 - (1 - level) / 2]))
            if low > 0 or high < 0:
                worse = (difference < 0) == HIGHER_IS_BETTER[key[2]]
                effect = (
                    "failing it goes with worse outcomes" if worse else "failing it goes with better outcomes"
                )
            else:
                effect = "no evidence"
        effects.append(
            ItemEffect(
                checklist_id=key[0],
                item_id=key[1],
                outcome=key[2],
                n_pass=n_pass,
                n_fail=n_fail,
                strata=len(both),
                raw_difference=raw,
                difference=difference,
                low=low,
                high=high,
                verdict=effect,
            )
        )
    return EffectsReport(
        adjusted_for=adjusted_for, confidence=confidence, comparisons=len(testable), effects=effects
    )


def _counts(by_stratum: Mapping[tuple[str, ...], tuple[list[float], list[float]]]) -> tuple[int, int]:
    return sum(len(p) for p, _ in by_stratum.values()), sum(len(f) for _, f in by_stratum.values())


def _combined(strata: Mapping[tuple[str, ...], tuple[Floats, Floats]]) -> float:
    weights = {s: len(p) * len(f) / (len(p) + len(f)) for s, (p, f) in strata.items()}
    total = sum(weights.values())
    return float(sum(weights[s] * (f.mean() - p.mean()) for s, (p, f) in strata.items()) / total)


def _bootstrap(
    strata: Mapping[tuple[str, ...], tuple[Floats, Floats]], reps: int, rng: np.random.Generator
) -> Floats:
    weighted = np.zeros(reps)
    total = 0.0
    for passing, failing in strata.values():
        weight = len(passing) * len(failing) / (len(passing) + len(failing))
        p = rng.choice(passing, size=(reps, len(passing))).mean(axis=1)
        f = rng.choice(failing, size=(reps, len(failing))).mean(axis=1)
        weighted += weight * (f - p)
        total += weight
    return weighted / total
