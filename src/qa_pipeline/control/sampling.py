"""Which calls go to human controllers, and why.

Two kinds of picks, kept apart because they answer different questions:
- a seeded, stratified random sample (per agent by default): the unbiased baseline that agreement and
  quality rates are estimated from;
- risk-based picks on top: critical fails, fatal items passed on low confidence (a rude agent passed on a
  coin toss), items the judge could not answer, low confidence, borderline
  totals, and items people have found the AI weak on or corrected most. Each pick names its reasons.
  Two risks are picked whatever the number of risk picks asked for: speech addressed to the evaluator
  (a manipulation attempt) and a fatal fail the judge was not sure enough of to zero the call.
A share of the random picks goes to two controllers, so human-human agreement (the ceiling the AI is
compared with) is measured on ordinary calls.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from pydantic import BaseModel, Field

from qa_pipeline.errors import ConfigError
from qa_pipeline.models import CallMetadata, SamplePick, Scorecard


class SamplePlanOptions(BaseModel):
    size: int = Field(ge=1, description="calls in the random baseline")
    risk_picks: int = Field(default=0, ge=0, description="risk-based calls added on top of the baseline")
    seed: int = 0
    stratum: str = Field(default="agent", pattern="^(agent|team|queue|language)$")
    controllers: list[str] = Field(min_length=1)
    double_share: float = Field(default=0.2, ge=0, le=1)
    pass_mark: float = Field(default=80.0, ge=0, le=100)
    borderline: float = Field(default=5.0, ge=0, description="totals within this of the pass mark")
    low_confidence: float = Field(default=0.5, ge=0, le=1)
    weak_items: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="checklist id -> item id -> why people doubt it"
    )
    corrected_items: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="checklist id -> item id -> overrides"
    )
    disputed_items: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="checklist id -> item id -> agents' disputes"
    )


class Candidate(BaseModel):
    scorecard: Scorecard
    metadata: CallMetadata


# How serious each kind of risk is when picks are ranked; lower first.
(
    MANIPULATION,
    UNCERTAIN_FATAL,
    CRITICAL_FAIL,
    UNCERTAIN_FATAL_PASS,
    JUDGE_FAILED,
    CRITICAL_FLAG,
    WEAK_ITEM,
    CORRECTED,
    DISPUTED,
    BORDERLINE,
    LOW_CONFIDENCE,
) = range(11)
# Risks a person must see on every call that has them, beyond the risk picks asked for.
ALWAYS_REVIEWED = {MANIPULATION, UNCERTAIN_FATAL}


def ranked_risks(card: Scorecard, options: SamplePlanOptions) -> list[tuple[int, str]]:
    """Why a call deserves a person's eyes beyond chance: (severity, reason) pairs."""
    reasons = []
    if card.manipulation:
        said = "; ".join(f"{a.speaker} at {a.start:.0f} s: {a.quote!r}" for a in card.manipulation[:2])
        reasons.append((MANIPULATION, f"manipulation attempt: {said}"))
    uncertain = [v.item_id for v in card.verdicts if v.needs_human and "uncertain_fatal" in v.flags]
    if uncertain:
        reasons.append((UNCERTAIN_FATAL, f"fatal fail to confirm: {', '.join(uncertain)}"))
    reasons += [(CRITICAL_FAIL, f"critical fail: {item}") for item in card.failed_critical]
    passed_unsure = [v.item_id for v in card.verdicts if "uncertain_fatal_pass" in v.flags]
    if passed_unsure:
        reasons.append(
            (UNCERTAIN_FATAL_PASS, f"fatal item passed on low confidence: {_names(passed_unsure)}")
        )
    reasons += [(CRITICAL_FLAG, f"critical flag: {item}") for item in card.flagged_critical]
    unanswered = [v.item_id for v in card.verdicts if v.needs_human and v.item_id not in uncertain]
    if unanswered:
        reasons.append((JUDGE_FAILED, f"judge could not answer: {', '.join(unanswered)}"))
    answered = [v.item_id for v in card.verdicts if v.answer is not None]
    # What people found on one checklist says nothing about another checklist's item of the same id.
    weak_here = options.weak_items.get(card.checklist_id, {})
    corrected_here = options.corrected_items.get(card.checklist_id, {})
    weak = [item for item in answered if item in weak_here]
    if weak:
        reasons.append((WEAK_ITEM, f"weak items so far: {_names(weak)}"))
    corrected = [f"{item} ({corrected_here[item]})" for item in answered if item in corrected_here]
    if corrected:
        reasons.append((CORRECTED, f"often corrected: {_names(corrected)}"))
    disputed_here = options.disputed_items.get(card.checklist_id, {})
    disputed = [f"{item} ({disputed_here[item]})" for item in answered if item in disputed_here]
    if disputed:
        reasons.append((DISPUTED, f"disputed by agents: {_names(disputed)}"))
    total = card.total
    if (
        total is not None
        and not card.failed_critical
        and abs(total - options.pass_mark) <= options.borderline
    ):
        reasons.append((BORDERLINE, f"borderline total: {total:.0f} (pass mark {options.pass_mark:.0f})"))
    shaky = [
        f"{v.item_id} {v.confidence:.2f}"
        for v in card.verdicts
        if v.confidence is not None and v.confidence < options.low_confidence
    ]
    if shaky:
        reasons.append((LOW_CONFIDENCE, f"low confidence: {_names(shaky)}"))
    return reasons


def _names(names: list[str], shown: int = 3) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def plan_sample(candidates: list[Candidate], options: SamplePlanOptions) -> list[SamplePick]:
    """Reproducible: the same candidates and options give the same picks and the same controllers."""
    if not candidates:
        raise ConfigError("no scored calls to sample from (run qa-pipeline score first, or widen --period)")
    rng = np.random.default_rng(options.seed)
    ordered = sorted(candidates, key=lambda c: (c.scorecard.call_id, c.scorecard.checklist_id))
    strata: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in ordered:
        strata[str(getattr(candidate.metadata, options.stratum) or "(none)")].append(candidate)
    quotas = _allocate(min(options.size, len(ordered)), {name: len(group) for name, group in strata.items()})
    picks: list[SamplePick] = []
    chosen: set[tuple[str, str]] = set()
    for name in sorted(strata):
        group = strata[name]
        for index in sorted(rng.choice(len(group), size=quotas[name], replace=False).tolist()):
            card = group[index].scorecard
            chosen.add((card.call_id, card.checklist_id))
            risks = [reason for _, reason in ranked_risks(card, options)]
            reasons = [f"random baseline ({options.stratum}: {name})", *risks]
            picks.append(
                SamplePick(
                    call_id=card.call_id, checklist_id=card.checklist_id, kind="random", reasons=reasons
                )
            )
    risky = []
    for candidate in ordered:
        card = candidate.scorecard
        ranked = ranked_risks(card, options)
        if ranked and (card.call_id, card.checklist_id) not in chosen:
            risky.append((min(rank for rank, _ in ranked), rng.random(), card, [r for _, r in ranked]))
    always = [r for r in risky if r[0] in ALWAYS_REVIEWED]
    ranked_rest = sorted((r for r in risky if r[0] not in ALWAYS_REVIEWED), key=lambda r: (r[0], r[1]))
    for _, _, card, reasons in [
        *sorted(always, key=lambda r: (r[0], r[1])),
        *ranked_rest[: options.risk_picks],
    ]:
        picks.append(
            SamplePick(call_id=card.call_id, checklist_id=card.checklist_id, kind="risk", reasons=reasons)
        )
    _assign(picks, options, rng)
    return picks


def _allocate(size: int, counts: dict[str, int]) -> dict[str, int]:
    """Proportional allocation with largest remainders; every stratum gets one call while size allows."""
    total = sum(counts.values())
    names = sorted(counts)
    quotas = {name: 0 for name in names}
    if size >= len(names):
        quotas = {name: 1 for name in names}
    remaining = size - sum(quotas.values())
    shares = {name: remaining * counts[name] / total for name in names}
    for name in names:
        quotas[name] += min(math.floor(shares[name]), counts[name] - quotas[name])
    left = size - sum(quotas.values())
    by_remainder = sorted(names, key=lambda n: (-(shares[n] - math.floor(shares[n])), -counts[n], n))
    while left > 0:
        progressed = False
        for name in by_remainder:
            if left and quotas[name] < counts[name]:
                quotas[name] += 1
                left -= 1
                progressed = True
        if not progressed:
            break
    return quotas


def _assign(picks: list[SamplePick], options: SamplePlanOptions, rng: np.random.Generator) -> None:
    """Balanced load; double-scored calls are drawn from the random baseline (ordinary calls)."""
    controllers = list(dict.fromkeys(options.controllers))
    baseline = [i for i, pick in enumerate(picks) if pick.kind == "random"]
    doubles: set[int] = set()
    if len(controllers) >= 2 and options.double_share > 0 and baseline:
        count = min(len(baseline), math.ceil(options.double_share * len(baseline)))
        doubles = set(rng.choice(baseline, size=count, replace=False).tolist())
    load = dict.fromkeys(controllers, 0)
    for index in rng.permutation(len(picks)).tolist():
        wanted = 2 if index in doubles else 1
        order = sorted(controllers, key=lambda c: (load[c], rng.random()))
        picks[index].reviewers = sorted(order[:wanted])
        for controller in order[:wanted]:
            load[controller] += 1
        if index in doubles:
            picks[index].reasons.append("double-scored: human-human agreement")
