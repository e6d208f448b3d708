"""AI against people, item by item: agreement, human-human ceiling, the trust map and drift.

The AI is compared with each call's first controller (by name); where a second controller scored the same
call, the two people are compared with each other, which is the ceiling the AI can be held to. An item is
"AI may score alone" only when the lower confidence bound of its AI-human agreement clears the threshold on
enough reviewed calls, and the AI also matched people on every answer they gave (a judge that always says
"yes" agrees 95% of the time on an item that passes 95% of the time, and never finds a fail).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import partial
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, Field
from scipy.stats import fisher_exact

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.agreement import (
    CONFIDENCE,
    CategoricalAgreement,
    NumericAgreement,
    categorical_agreement,
    numeric_agreement,
)
from qa_pipeline.models import CallMetadata, Dispute, HumanReview, Override, Scorecard
from qa_pipeline.scoring import NO_TIMES, score_answers

TrustStatus = Literal["ai_may_score_alone", "human_control_required", "too_few_reviews"]


class TrustRule(BaseModel):
    threshold: float = Field(default=0.85, gt=0, le=1, description="lower CI bound of agreement needed")
    min_reviews: int = Field(default=30, ge=1)
    min_class_agreement: float = Field(
        default=0.5, ge=0, le=1, description="agreement needed on every answer people gave (e.g. 'no')"
    )
    drift_tolerance: float = Field(default=0.10, gt=0, le=1)
    drift_min_reviews: int = Field(default=10, ge=1, description="reviews needed in each period compared")
    drift_significance: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="one-sided Fisher exact p-value a fall must reach: one disagreement among five "
        "reviews is a 20-point fall and no evidence of drift",
    )


class TrustVerdict(BaseModel):
    status: TrustStatus
    reason: str


class PeriodAgreement(BaseModel):
    period: str
    n: int
    agreement: float | None


class ItemReport(BaseModel):
    group: str  # checklist id, or "all" when items with the same id are pooled across checklists
    item_id: str
    question: str
    method: Literal["llm", "phrases", "timing", "mixed"] = Field(
        default="llm",
        description="who decides the item: the LLM judge or a rule (mixed: pooled checklists differ)",
    )
    weight: float
    ai_human: CategoricalAgreement
    human_human: CategoricalAgreement | None
    ai_unanswered: int = Field(description="reviewed calls where the judge left the item to a person")
    overrides: int
    disputes: int = Field(default=0, description="agents' disputes of the AI's (or a person's) verdict")
    disputes_overturned: int = Field(default=0, description="disputes a supervisor found right")
    trust: TrustVerdict
    periods: list[PeriodAgreement]


class DriftFinding(BaseModel):
    group: str
    item_id: str
    before: PeriodAgreement
    after: PeriodAgreement
    drop: float
    p_value: float  # one-sided Fisher exact test: agreement was higher before


class AgreementReport(BaseModel):
    rule: TrustRule
    confidence: float
    calls_reviewed: int
    calls_double_scored: int
    calls_by_pick: dict[str, int] = Field(
        description="reviewed calls by how they were picked: random (unbiased), risk (harder), unplanned"
    )
    baseline_only: bool = False
    reviewers: dict[str, int]
    items: list[ItemReport]
    totals_ai_human: NumericAgreement
    totals_human_human: NumericAgreement
    alignment_ai_human: float | None = Field(description="per-criterion alignment weighted by item points")
    alignment_human_human: float | None
    drift: list[DriftFinding]
    stale_scorecards: int = Field(
        default=0, description="scorecards left out: scored against another version of their checklist"
    )
    stale_answers: int = Field(
        default=0, description="answers left out (the AI's or a controller's): no longer allowed by the item"
    )


def period_of(metadata: CallMetadata | None) -> str:
    return (metadata.date or "")[:7] if metadata and metadata.date else "(no date)"


def trust_verdict(agreement: CategoricalAgreement, rule: TrustRule) -> TrustVerdict:
    if agreement.n < rule.min_reviews:
        return TrustVerdict(
            status="too_few_reviews", reason=f"{agreement.n} of {rule.min_reviews} reviewed calls needed"
        )
    low = agreement.agreement.low or 0.0
    problems = []
    if low < rule.threshold:
        problems.append(
            f"agreement {agreement.agreement.value:.0%}, lower bound {low:.0%} < {rule.threshold:.0%}"
        )
    problems += [
        f"on {answer.answer!r}: people {answer.by_b}, AI {answer.by_a}, both {answer.both} "
        f"(agreement {answer.agreement or 0.0:.0%} < {rule.min_class_agreement:.0%})"
        for answer in agreement.per_class
        if answer.by_b and (answer.agreement or 0.0) < rule.min_class_agreement
    ]
    if problems:
        return TrustVerdict(status="human_control_required", reason="; ".join(problems))
    return TrustVerdict(
        status="ai_may_score_alone",
        reason=f"lower bound {low:.0%} >= {rule.threshold:.0%} on {agreement.n} calls",
    )


def calibrate(
    scorecards: list[Scorecard],
    reviews: list[HumanReview],
    checklists: dict[str, Checklist],
    *,
    metadata: dict[str, CallMetadata] | None = None,
    overrides: list[Override] | None = None,
    disputes: list[Dispute] | None = None,
    rule: TrustRule | None = None,
    pool_items: bool = False,
    pick_kinds: dict[tuple[str, str], str] | None = None,
    baseline_only: bool = False,
    confidence: float = CONFIDENCE,
    reps: int = 2000,
    seed: int = 0,
) -> AgreementReport:
    """`pick_kinds` says how each reviewed call was sampled; `baseline_only` keeps the random picks alone,
    since risk-based picks are harder calls and bias agreement downwards."""
    rule = rule or TrustRule()
    metadata = metadata or {}
    kinds = pick_kinds or {}
    known = [c for c in scorecards if c.checklist_id in checklists]
    # A scorecard of another checklist version answered other questions (an item may since allow N/A):
    # it is left out and counted, so the report asks for a rescore instead of comparing unlike answers.
    current = current_scorecards(known, checklists)
    cards = {(c.call_id, c.checklist_id): c for c in current}
    if baseline_only:
        cards = {key: card for key, card in cards.items() if kinds.get(key) == "random"}
    answers: dict[tuple[str, str], dict[str, dict[str, str | int]]] = defaultdict(lambda: defaultdict(dict))
    stale_answers = 0
    for review in reviews:
        if (review.call_id, review.checklist_id) not in cards:
            continue
        item = next((i for i in checklists[review.checklist_id].items if i.id == review.item_id), None)
        if item is not None and review.answer not in item.answers:
            stale_answers += 1
            continue
        answers[(review.call_id, review.checklist_id)][review.reviewer][review.item_id] = review.answer
    reviewer_calls: dict[str, int] = defaultdict(int)
    for by_reviewer in answers.values():
        for reviewer in by_reviewer:
            reviewer_calls[reviewer] += 1

    override_counts: dict[tuple[str, str], int] = defaultdict(int)
    for override in overrides or []:
        override_counts[(override.checklist_id, override.item_id)] += 1
    dispute_counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for dispute in disputes or []:
        dispute_counts[(dispute.checklist_id, dispute.item_id)][0] += 1
        dispute_counts[(dispute.checklist_id, dispute.item_id)][1] += dispute.status == "overturned"

    def group_of(checklist_id: str) -> str:
        return "all" if pool_items else checklist_id

    # (group, item) -> list of (call key, AI answer or None, first reviewer's answer, second's or None)
    pairs: dict[tuple[str, str], list[tuple[tuple[str, str], str | int | None, str | int, str | int | None]]]
    pairs = defaultdict(list)
    for key, by_reviewer in sorted(answers.items()):
        card = cards[key]
        ai = {v.item_id: v.answer for v in card.verdicts}
        # an item a conversation without times cannot have (a timing rule): nothing to agree on
        untimed = {v.item_id for v in card.verdicts if NO_TIMES in v.flags}
        for item in checklists[key[1]].items:
            if item.id in untimed:
                continue
            # per item, the first controllers by name who answered it: one may skip what another answered
            names = [name for name in sorted(by_reviewer) if item.id in by_reviewer[name]]
            if not names:
                continue
            second = by_reviewer[names[1]][item.id] if len(names) > 1 else None
            if ai.get(item.id) is not None and ai[item.id] not in item.answers:
                stale_answers += 1  # the item changed without a new checklist version
                continue
            pairs[(group_of(key[1]), item.id)].append(
                (key, ai.get(item.id), by_reviewer[names[0]][item.id], second)
            )

    items = []
    alignment_sums = {"ai": [0.0, 0.0], "hh": [0.0, 0.0]}
    for (group, item_id), rows in sorted(pairs.items()):
        checklist = checklists[rows[0][0][1]]
        item = checklist.item(item_id)
        categories = list(
            dict.fromkeys(
                a for key in {r[0][1] for r in rows} for a in checklists[key].item(item_id).answer_labels
            )
        )
        answered = [r for r in rows if r[1] is not None]
        doubled = [r for r in rows if r[3] is not None]

        agreement = partial(
            categorical_agreement,
            categories=[str(c) for c in categories],
            item_max=item.max_points,
            reps=reps,
            confidence=confidence,
            seed=seed,
        )
        ai_human = agreement([str(r[1]) for r in answered], [str(r[2]) for r in answered])
        human_human = (
            agreement([str(r[2]) for r in doubled], [str(r[3]) for r in doubled]) if doubled else None
        )
        for name, stats in (("ai", ai_human), ("hh", human_human)):
            if stats is not None and stats.alignment is not None:
                alignment_sums[name][0] += item.weight * stats.alignment
                alignment_sums[name][1] += item.weight
        overrides_here = sum(
            count for (cl, it), count in override_counts.items() if it == item_id and group_of(cl) == group
        )
        methods = {checklists[key].item(item_id).method for key in {r[0][1] for r in rows}}
        raised, overturned = (
            sum(
                counts[i]
                for (cl, it), counts in dispute_counts.items()
                if it == item_id and group_of(cl) == group
            )
            for i in (0, 1)
        )
        trust = trust_verdict(ai_human, rule)
        if raised:
            trust = trust.model_copy(
                update={
                    "reason": f"{trust.reason}; agents disputed it {raised} times, {overturned} overturned"
                }
            )
        items.append(
            ItemReport(
                group=group,
                item_id=item_id,
                question=item.question,
                method=methods.pop() if len(methods) == 1 else "mixed",
                weight=item.weight,
                ai_human=ai_human,
                human_human=human_human,
                ai_unanswered=len(rows) - len(answered),
                overrides=overrides_here,
                disputes=raised,
                disputes_overturned=overturned,
                trust=trust,
                periods=_periods(answered, metadata),
            )
        )

    ai_totals, first_totals, second_totals, hh_first = _totals(cards, answers, checklists)
    return AgreementReport(
        rule=rule,
        confidence=confidence,
        calls_reviewed=len(answers),
        calls_double_scored=sum(len(r) > 1 for r in answers.values()),
        calls_by_pick={
            kind: sum(kinds.get(key, "unplanned") == kind for key in answers)
            for kind in ("random", "risk", "unplanned")
        },
        baseline_only=baseline_only,
        reviewers=dict(sorted(reviewer_calls.items())),
        items=items,
        totals_ai_human=numeric_agreement(
            ai_totals, first_totals, reps=reps, confidence=confidence, seed=seed
        ),
        totals_human_human=numeric_agreement(
            hh_first, second_totals, reps=reps, confidence=confidence, seed=seed
        ),
        alignment_ai_human=_ratio(alignment_sums["ai"]),
        alignment_human_human=_ratio(alignment_sums["hh"]),
        drift=_drift(items, rule),
        stale_scorecards=len(known) - len(current),
        stale_answers=stale_answers,
    )


def current_scorecards(cards: list[Scorecard], checklists: dict[str, Checklist]) -> list[Scorecard]:
    """The scorecards made against the loaded version of their checklist."""
    return [card for card in cards if card.checklist_version == checklists[card.checklist_id].version]


def _ratio(sums: list[float]) -> float | None:
    return sums[0] / sums[1] if sums[1] else None


def _periods(
    rows: list[tuple[tuple[str, str], str | int | None, str | int, str | int | None]],
    metadata: dict[str, CallMetadata],
) -> list[PeriodAgreement]:
    by_period: dict[str, list[bool]] = defaultdict(list)
    for key, ai, human, _ in rows:
        by_period[period_of(metadata.get(key[0]))].append(ai == human)
    return [
        PeriodAgreement(period=p, n=len(v), agreement=sum(v) / len(v)) for p, v in sorted(by_period.items())
    ]


def _drift(items: list[ItemReport], rule: TrustRule) -> list[DriftFinding]:
    """Agreement falling from one period to the next by more than the tolerance, on enough calls, and by
    more than chance explains."""
    findings = []
    for item in items:
        usable = [p for p in item.periods if p.n >= rule.drift_min_reviews and p.agreement is not None]
        for before, after in pairwise(usable):
            assert before.agreement is not None and after.agreement is not None
            drop = before.agreement - after.agreement
            if drop < rule.drift_tolerance:
                continue
            p_value = fall_p_value(before, after)
            if p_value <= rule.drift_significance:
                findings.append(
                    DriftFinding(
                        group=item.group,
                        item_id=item.item_id,
                        before=before,
                        after=after,
                        drop=drop,
                        p_value=p_value,
                    )
                )
    return findings


def fall_p_value(before: PeriodAgreement, after: PeriodAgreement) -> float:
    """How likely a fall this large is when agreement did not change (one-sided Fisher exact test)."""
    assert before.agreement is not None and after.agreement is not None
    agreed_before = round(before.agreement * before.n)
    agreed_after = round(after.agreement * after.n)
    table = [[agreed_before, before.n - agreed_before], [agreed_after, after.n - agreed_after]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def human_total(checklist: Checklist, call_id: str, given: dict[str, str | int]) -> float | None:
    if any(item.id not in given for item in checklist.items):
        return None
    return score_answers(checklist, call_id, given).total


def _totals(
    cards: dict[tuple[str, str], Scorecard],
    answers: dict[tuple[str, str], dict[str, dict[str, str | int]]],
    checklists: dict[str, Checklist],
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Call totals of the controllers (by name) who answered every item: AI vs the first, first vs
    second."""
    ai_totals, first_totals, second_totals, hh_first = [], [], [], []
    for key, by_reviewer in sorted(answers.items()):
        card, checklist = cards[key], checklists[key[1]]
        totals = [human_total(checklist, key[0], by_reviewer[name]) for name in sorted(by_reviewer)]
        complete = [total for total in totals if total is not None]
        if not complete:
            continue
        if card.complete and card.total is not None:
            ai_totals.append(card.total)
            first_totals.append(complete[0])
        if len(complete) > 1:
            hh_first.append(complete[0])
            second_totals.append(complete[1])
    return ai_totals, first_totals, second_totals, hh_first


def weak_items(report: AgreementReport) -> dict[str, dict[str, str]]:
    """Items people disagree with the AI on so far, judged on the point estimates: a sampling plan should
    look harder at them long before there are enough reviews for the trust map to decide. Keyed by the
    report's groups: checklist ids, or "all" for a report pooled over checklists."""
    weak: dict[str, dict[str, str]] = defaultdict(dict)
    for item in report.items:
        stats, rule = item.ai_human, report.rule
        value = stats.agreement.value
        missed = [
            c.answer for c in stats.per_class if c.by_b and (c.agreement or 0.0) < rule.min_class_agreement
        ]
        if value is not None and value < rule.threshold:
            weak[item.group][item.item_id] = f"agreement {value:.0%} on {stats.n}"
        elif missed:
            weak[item.group][item.item_id] = f"poor agreement on {', '.join(missed)}"
    return dict(weak)


def most_corrected(overrides: list[Override]) -> dict[str, dict[str, int]]:
    """Overrides per checklist and item, most first: they feed the sampling plan."""
    return _most((o.checklist_id, o.item_id) for o in overrides)


def most_disputed(disputes: list[Dispute]) -> dict[str, dict[str, int]]:
    """Disputes per checklist and item, whatever their outcome: an item agents keep disputing deserves
    people's eyes on other calls too, before supervisors have decided each dispute."""
    return _most((d.checklist_id, d.item_id) for d in disputes)


def _most(keys: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for checklist_id, item_id in keys:
        counts[checklist_id][item_id] += 1
    return {
        checklist_id: dict(sorted(items.items(), key=lambda kv: (-kv[1], kv[0])))
        for checklist_id, items in sorted(counts.items())
    }
