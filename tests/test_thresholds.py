"""Per-item thresholds of the items judge: fitting, files, and the judge applying them."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_pipeline.errors import ConfigError
from qa_pipeline.judging.confidence import calibrate
from qa_pipeline.judging.thresholds import (
    fit_all,
    fit_from_reviews,
    fit_threshold,
    labelled_probabilities,
    thresholds_for,
    write_thresholds,
)
from qa_pipeline.models import HumanReview, ItemVerdict, Scorecard


def test_fit_puts_the_cut_between_the_classes() -> None:
    fitted = fit_threshold([(0.30, False), (0.35, False), (0.50, True), (0.70, True)])
    assert fitted is not None and 0.35 < fitted.threshold <= 0.50 and fitted.agreement == 1.0
    noisy = fit_threshold([(0.2, False), (0.6, False), (0.4, True), (0.7, True), (0.8, True)])
    assert noisy is not None and noisy.agreement == pytest.approx(0.8)


def test_two_separate_best_cuts_do_not_average_across_a_worse_stretch() -> None:
    """Demo p(yes) for "solution": a cut at 0.45 and one at 0.60 both agree with 9 of 12 labels, but a
    cut between them (0.53) agrees with only 7; the threshold stays inside the first best run."""
    labels = [(0.688, 1), (0.713, 1), (0.456, 1), (0.331, 0), (0.443, 0), (0.738, 0), (0.685, 1), (0.495, 1)]
    labels += [(0.774, 1), (0.604, 1), (0.575, 0), (0.577, 0)]
    fitted = fit_threshold([(p, bool(label)) for p, label in labels])
    assert fitted is not None and 0.443 < fitted.threshold <= 0.456 and fitted.agreement == 0.75


def test_one_sided_labels_fit_nothing() -> None:
    assert fit_threshold([(0.3, True), (0.9, True)]) is None
    assert fit_all([("summary", 0.3, True), ("empathy", 0.2, False), ("empathy", 0.7, True)]).keys() == {
        "empathy"
    }


def test_a_threshold_as_prior_moves_the_decision_to_it() -> None:
    shifted = calibrate({"yes": 0.45, "no": 0.55}, {"yes": 0.40, "no": 0.60})
    assert shifted["yes"] > 0.5  # p(yes) 0.45 passes a 0.40 cut
    assert calibrate({"yes": 0.35, "no": 0.65}, {"yes": 0.40, "no": 0.60})["yes"] < 0.5


def test_gate_and_item_probabilities_give_separate_labels() -> None:
    pairs = labelled_probabilities(
        "empathy", {"yes": 0.6, "no": 0.4, "applies:yes": 0.9, "applies:no": 0.1}, "yes"
    )
    assert pairs == [("empathy", 0.6, True), ("applies:empathy", 0.9, True)]
    assert labelled_probabilities("empathy", {"applies:yes": 0.7, "applies:no": 0.3}, "na") == [
        ("applies:empathy", 0.7, False)
    ]


def test_files_keep_other_models_and_later_files_win(tmp_path: Path) -> None:
    shipped, team = tmp_path / "shipped.yaml", tmp_path / "team.yaml"
    write_thresholds(shipped, "m1", "demo", fit_all([("summary", 0.3, False), ("summary", 0.7, True)]))
    write_thresholds(shipped, "m2", "demo", fit_all([("summary", 0.1, False), ("summary", 0.2, True)]))
    write_thresholds(team, "m1", "reviews", fit_all([("summary", 0.6, False), ("summary", 0.8, True)]))
    assert 0.3 < thresholds_for("m1", [shipped])["summary"] <= 0.7
    assert 0.6 < thresholds_for("m1", [shipped, team])["summary"] <= 0.8
    assert 0.1 < thresholds_for("m2", [shipped, team])["summary"] <= 0.2
    assert thresholds_for("m3", [shipped, tmp_path / "absent.yaml"]) == {}
    team.write_text("models: {m1: {items: {summary: {threshold: 2}}}}")
    with pytest.raises(ConfigError, match=r"team\.yaml: invalid judge thresholds"):
        thresholds_for("m1", [team])


def test_fit_from_reviews_uses_the_first_controller_and_items_mode_only() -> None:
    def card(call: str, p_yes: float, mode: str = "items") -> Scorecard:
        verdict = ItemVerdict(item_id="summary", answer="yes", probabilities={"yes": p_yes, "no": 1 - p_yes})
        return Scorecard(
            call_id=call,
            checklist_id="c",
            checklist_version="1",
            verdicts=[verdict],
            total=100,
            complete=True,
            judge={"model": "m", "mode": mode},
        )

    def review(call: str, answer: str, reviewer: str) -> HumanReview:
        return HumanReview(
            call_id=call, checklist_id="c", item_id="summary", reviewer=reviewer, answer=answer
        )  # type: ignore[arg-type]

    cards = [card("a", 0.3), card("b", 0.4), card("c", 0.7), card("d", 0.8), card("e", 0.9, mode="scorecard")]
    reviews = [review("a", "no", "anna"), review("a", "yes", "boris"), review("b", "no", "anna")]
    reviews += [review("c", "yes", "anna"), review("d", "yes", "anna"), review("e", "no", "anna")]
    fitted = fit_from_reviews(cards, reviews, min_calls=3)
    items, calls = fitted["m"]
    assert calls == 4 and 0.4 < items["summary"].threshold <= 0.7 and items["summary"].agreement == 1.0
    assert fit_from_reviews(cards, reviews, min_calls=5)["m"][0] == {}
