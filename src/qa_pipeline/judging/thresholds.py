"""Per-item decision thresholds for yes/no questions in the items mode, fitted on labelled calls.

A small model's probability of "yes" separates passing from failing calls well on most items (on the
demo calls the bundled 1.5B model ranked them with an AUC of 0.8-1.0 on seven of nine questions) but at
a different point for every question: 0.60 for "did the agent sum up", 0.39 for "did the agent solve the
problem". One cut at 0.5 then turns good ranking into poor answers, and neither an empty-transcript prior
nor a global cut fixes it. So the cut is learnt per item from calls whose right answer is known: the
calls controllers reviewed (`qa-pipeline fit-thresholds`) or, for the shipped defaults, the demo corpus's
scripts. A threshold t is applied as a prior (t, 1 - t): the calibrated "yes" share is above one half
exactly when p(yes) >= t, and that share is the verdict's confidence.

Item ids shared by a checklist's language versions share a threshold: both ask the same thing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qa_pipeline.errors import ConfigError
from qa_pipeline.models import HumanReview, Scorecard

logger = logging.getLogger(__name__)

THRESHOLDS_FILE = "thresholds.yaml"  # in the items prompt's folder: thresholds belong to its wording
DEFAULT_THRESHOLD = 0.5


class ItemThreshold(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(gt=0, lt=1)
    calls: int = Field(ge=1, description="labelled calls the threshold was fitted on")
    agreement: float = Field(ge=0, le=1, description="agreement with those labels at this threshold")


class ModelThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fitted_on: str = Field(description="where the labels came from")
    items: dict[str, ItemThreshold]


class ThresholdFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: dict[str, ModelThresholds] = Field(description="judge model identity -> thresholds")


def load_thresholds(path: Path) -> ThresholdFile:
    try:
        return ThresholdFile.model_validate(
            yaml.safe_load(path.read_text(encoding="utf-8")) or {"models": {}}
        )
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: invalid judge thresholds: {exc}") from exc


def thresholds_for(model_id: str, paths: Iterable[Path]) -> dict[str, float]:
    """Item id -> threshold for one model: later files override earlier ones (shipped, then a team's)."""
    found: dict[str, float] = {}
    for path in paths:
        if path.is_file():
            model = load_thresholds(path).models.get(model_id)
            if model is not None:
                found.update({item: fitted.threshold for item, fitted in model.items.items()})
    return found


def fit_threshold(labelled: list[tuple[float, bool]]) -> ItemThreshold | None:
    """The cut on p(yes) that agrees with most labels; among equally good cuts, the middle one.

    None when the labels are all one answer: any cut below the lowest p(yes) would fit, which says
    nothing about where failing calls would fall.
    """
    if len({passed for _, passed in labelled}) < 2:
        return None
    # Cutting at an observed p gives the same answers as any cut above the next lower observed p, so the
    # threshold goes in the middle of the first run of equally best cuts (not across a worse stretch).
    cuts = sorted({p for p, _ in labelled} | {1.0})
    scores = [sum((p >= cut) == passed for p, passed in labelled) for cut in cuts]
    best = max(scores)
    first = last = scores.index(best)
    while last + 1 < len(scores) and scores[last + 1] == best:
        last += 1
    low = cuts[first - 1] if first > 0 else 0.0
    threshold = min(max((low + cuts[last]) / 2, 0.01), 0.99)
    return ItemThreshold(
        threshold=round(threshold, 4), calls=len(labelled), agreement=round(best / len(labelled), 4)
    )


def write_thresholds(path: Path, model_id: str, fitted_on: str, items: dict[str, ItemThreshold]) -> None:
    """Add or replace one model's thresholds in a file, keeping other models' entries."""
    existing = load_thresholds(path) if path.is_file() else ThresholdFile(models={})
    existing.models[model_id] = ModelThresholds(fitted_on=fitted_on, items=dict(sorted(items.items())))
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Decision thresholds of the items judge: an item's answer is yes when the model's p(yes) reaches\n"
        "# its threshold. Written by qa-pipeline fit-thresholds or benchmarks/score.py --fit-thresholds.\n"
    )
    body = yaml.safe_dump(existing.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    path.write_text(header + body, encoding="utf-8")


def labelled_probabilities(
    item_id: str, probabilities: dict[str, float], right_answer: str | int
) -> list[tuple[str, float, bool]]:
    """(key, p(yes), label) pairs one verdict offers for fitting: the item's own yes/no question and,
    where an `applies_if` question was asked, the gate ("applies:<item>" in the thresholds)."""
    pairs: list[tuple[str, float, bool]] = []
    if right_answer in ("yes", "no") and "yes" in probabilities and set(probabilities) >= {"yes", "no"}:
        pairs.append((item_id, probabilities["yes"], right_answer == "yes"))
    if "applies:yes" in probabilities:
        pairs.append((f"applies:{item_id}", probabilities["applies:yes"], right_answer != "na"))
    return pairs


def fit_all(labelled: Iterable[tuple[str, float, bool]]) -> dict[str, ItemThreshold]:
    """Thresholds for every key with labels of both kinds."""
    grouped: dict[str, list[tuple[float, bool]]] = {}
    for key, probability, passed in labelled:
        grouped.setdefault(key, []).append((probability, passed))
    fitted = {key: fit_threshold(pairs) for key, pairs in grouped.items()}
    return {key: value for key, value in fitted.items() if value is not None}


def fit_from_reviews(
    scorecards: Iterable[Scorecard], reviews: Iterable[HumanReview], min_calls: int
) -> dict[str, tuple[dict[str, ItemThreshold], int]]:
    """Per judge model: thresholds fitted on the calls controllers reviewed, and how many calls that was.

    Each reviewed item's right answer is its first controller's (by name, as in calibration); only
    items-mode verdicts carry the probabilities a threshold is fitted on. Questions with fewer than
    `min_calls` labelled calls keep their old threshold.
    """
    first: dict[tuple[str, str, str], HumanReview] = {}
    for review in sorted(reviews, key=lambda r: r.reviewer):
        first.setdefault((review.call_id, review.checklist_id, review.item_id), review)
    labelled: dict[str, list[tuple[str, float, bool]]] = {}
    calls: dict[str, set[str]] = {}
    for card in scorecards:
        if card.judge.get("mode") != "items":
            continue
        model = card.judge.get("model", "")
        for verdict in card.verdicts:
            reviewed = first.get((card.call_id, card.checklist_id, verdict.item_id))
            if reviewed is None or not verdict.probabilities:
                continue
            labelled.setdefault(model, []).extend(
                labelled_probabilities(verdict.item_id, verdict.probabilities, reviewed.answer)
            )
            calls.setdefault(model, set()).add(card.call_id)
    fitted = {}
    for model, pairs in labelled.items():
        counts: dict[str, int] = {}
        for key, _, _ in pairs:
            counts[key] = counts.get(key, 0) + 1
        enough = [pair for pair in pairs if counts[pair[0]] >= min_calls]
        fitted[model] = (fit_all(enough), len(calls[model]))
    return fitted
