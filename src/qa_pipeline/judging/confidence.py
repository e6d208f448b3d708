"""Confidence from the answer tokens' probabilities, not from asking the model how sure it is.

At the token where an item's answer begins, the model's probability mass is split between the tokens that
start each allowed answer ("y"/"yes" vs "no" vs "na"; a token that could start two answers, such as "n",
counts for neither). Confidence is the chosen answer's share of the mass that went to allowed answers.
Backends supply, per generated token, its start offset in the text and the top alternatives with
log-probabilities; the same code then serves local models and servers.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

A = TypeVar("A", str, int, str | int)

Alternatives = dict[str, float]  # token text -> log-probability, before any output constraint


@dataclass
class Generation:
    """A backend's reply with what confidence needs."""

    text: str
    token_offsets: list[int]  # char offset in `text` where each generated token starts
    alternatives: Callable[[int], Alternatives]  # token index -> top alternatives at that step
    prompt_tokens: int = 0
    completion_tokens: int = 0


_ANSWER_KEY = re.compile(r'(?<!\\)"answer"\s*:\s*')


def answer_positions(text: str) -> list[int]:
    """Char offsets where each answer value starts, in item order (the schema fixes the order)."""
    positions = []
    for match in _ANSWER_KEY.finditer(text):
        start = match.end()
        if start < len(text) and text[start] == '"':
            start += 1
        positions.append(start)
    return positions


def option_probabilities(
    generation: Generation, position: int, options: list[str], closing: str
) -> dict[str, float] | None:
    """Probability mass on each option at the token covering `position`; None when unknown."""
    index = bisect.bisect_right(generation.token_offsets, position) - 1
    if index < 0:
        return None
    prefix = generation.text[generation.token_offsets[index] : position]
    alternatives = generation.alternatives(index)
    mass = dict.fromkeys(options, 0.0)
    for token, logprob in alternatives.items():
        if not token.startswith(prefix):
            continue
        rest = token[len(prefix) :]
        if not rest:
            continue
        starts = [o for o in options if (o + closing).startswith(rest) or rest.startswith(o + closing)]
        if len(starts) == 1:  # "n" may begin "no" or "na", "1" may begin 1 or 10: evidence for neither
            mass[starts[0]] += math.exp(logprob)
    return mass if sum(mass.values()) > 0 else None


def answer_confidence(
    generation: Generation, position: int, chosen: str, options: list[str], closing: str = '"'
) -> float | None:
    mass = option_probabilities(generation, position, options, closing)
    if mass is None:
        return None
    return mass.get(chosen, 0.0) / sum(mass.values())


PRIOR_FLOOR = 1e-6


def calibrate(distribution: dict[A, float], prior: dict[A, float]) -> dict[A, float]:
    """Divide the model's answer probabilities by a prior and renormalise (contextual calibration).

    With a fitted threshold t as the prior (t, 1 - t), the calibrated "yes" share passes one half exactly
    where p(yes) reaches t, and it measures how far the model is past the item's own cut: the confidence.
    """
    raw = {answer: p / max(prior.get(answer, 0.0), PRIOR_FLOOR) for answer, p in distribution.items()}
    total = sum(raw.values())
    return {answer: value / total for answer, value in raw.items()} if total > 0 else distribution
