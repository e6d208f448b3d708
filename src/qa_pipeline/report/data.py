"""The numbers behind the supervisor report, read from the store.

Agent and team figures use the scorecards people stand behind (overrides applied), made against the loaded
version of their checklist; the per-call view keeps the AI's own answer, the override and each
controller's answer side by side, so a supervisor sees both what counts and where it came from.

A call may be scored against several checklists, so every figure is keyed by (call, checklist): each
scorecard gets its own entry in the call list, and a critical fail on any of them counts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from statistics import mean, stdev

from pydantic import BaseModel, Field
from scipy import stats

from qa_pipeline.agreement import CONFIDENCE, Interval, wilson_interval
from qa_pipeline.calibration import (
    AgreementReport,
    TrustRule,
    TrustStatus,
    current_scorecards,
    human_total,
    period_of,
)
from qa_pipeline.checklist import Checklist
from qa_pipeline.human_control import agreement_report, in_period
from qa_pipeline.models import (
    CallMetadata,
    Evidence,
    HumanReview,
    ManipulationAttempt,
    Override,
    Scorecard,
    Speaker,
    Transcript,
)
from qa_pipeline.overrides import apply_overrides
from qa_pipeline.store import Store

HISTOGRAM_BINS = 10

CardKey = tuple[str, str]
"""(call id, checklist id): what a scorecard, its reviews and its overrides are matched on."""


class Overview(BaseModel):
    calls: int
    hours: float
    scored: int = Field(description="calls with at least one current scorecard")
    scorecards: int = Field(description="current scorecards: a call scored against two checklists has two")
    mean_total: Interval
    totals: list[float] = Field(description="every current scorecard's total, for the distribution chart")
    critical_fails: int = Field(description="calls with a fatal item answered 'no' on any scorecard")
    critical_flags: int = Field(description="calls with a flag item answered 'no' on any scorecard")
    flagged_segments: int = Field(description="transcript segments the hallucination guard flagged")
    items_to_people: int = Field(description="verdicts the AI left to a person")
    calls_reviewed: int = Field(description="calls a controller reviewed against any of their checklists")
    overrides: int
    stale_scorecards: int


class PeriodMean(BaseModel):
    period: str
    calls: int
    mean_total: float | None


class GroupSummary(BaseModel):
    """One agent or one team."""

    name: str
    calls: int = Field(description="distinct calls; a call scored against two checklists counts once")
    mean_total: Interval
    pass_rates: dict[str, Interval] = Field(description="item id -> share of 'yes' among yes/no answers")
    trend: list[PeriodMean]
    compared_items: int = Field(description="items both the AI and a controller answered on these calls")
    disagreements: int
    disagreement_rate: Interval
    disagreeing_items: dict[str, int] = Field(description="item id -> disagreements, most first")


class ItemSummary(BaseModel):
    group: str
    item_id: str
    question: str
    method: str
    answered: int
    pass_rate: Interval
    left_to_people: int
    reviewed: int
    agreement: Interval | None
    kappa: float | None
    ac1: float | None
    trust: TrustStatus | None
    trust_reason: str
    overrides: int


class TotalsPair(BaseModel):
    call_id: str
    checklist_id: str
    agent: str | None
    ai: float
    human: float


class SegmentView(BaseModel):
    index: int
    speaker: Speaker
    start: float
    end: float
    text: str
    flags: list[str]


class VerdictView(BaseModel):
    item_id: str
    question: str
    ai_answer: str | None
    source: str
    confidence: float | None
    needs_human: bool
    flags: list[str]
    rationale: str
    evidence: list[Evidence]
    human: dict[str, str] = Field(description="controller -> answer")
    override: Override | None
    disagrees: bool = Field(description="a controller's answer differs from the AI's")


class CallView(BaseModel):
    call_id: str
    metadata: CallMetadata
    duration: float
    language: str | None
    audio_path: str | None
    segments: list[SegmentView]
    checklist_id: str | None
    checklist_version: str | None
    ai_total: float | None
    effective_total: float | None
    complete: bool
    provisional: list[str] = Field(description="why the total awaits a person (the scorecard's reasons)")
    manipulation: list[ManipulationAttempt] = Field(description="speech addressed to the evaluator")
    failed_critical: list[str]
    flagged_critical: list[str]
    verdicts: list[VerdictView]
    reviewed: bool


class ReportData(BaseModel):
    language: str
    period: str | None
    overview: Overview
    agents: list[GroupSummary]
    teams: list[GroupSummary]
    item_ids: list[str] = Field(description="column order of the per-item pass-rate tables")
    items: list[ItemSummary]
    totals: list[TotalsPair]
    agreement: AgreementReport | None
    pooled: bool = Field(description="agreement pooled over items with the same id across checklists")
    calls: list[CallView] = Field(description="one entry per scorecard (call, checklist) or unscored call")
    calls_left_out: int = Field(description="entries beyond --max-calls, counted but not shown one by one")


def build_report(
    store: Store,
    checklists: dict[str, Checklist],
    *,
    language: str | None = None,
    period: str | None = None,
    rule: TrustRule | None = None,
    pool_items: bool = False,
    max_calls: int = 200,
) -> ReportData:
    records = {
        call_id: record
        for call_id, record in store.call_records().items()
        if in_period(record["metadata"], period)
    }
    known = [c for c in store.scorecards() if c.checklist_id in checklists and c.call_id in records]
    ai_cards = {_card_key(c): c for c in current_scorecards(known, checklists)}
    overrides = [o for o in store.overrides() if (o.call_id, o.checklist_id) in ai_cards]
    effective = {
        key: apply_overrides(card, checklists[card.checklist_id], overrides) for key, card in ai_cards.items()
    }
    reviews = _reviews_by_card(store.human_reviews(), ai_cards)
    transcripts = {t.call_id: t for t in store.transcripts(list(records))}
    metadata: dict[str, CallMetadata] = {call_id: r["metadata"] for call_id, r in records.items()}
    item_ids = list(dict.fromkeys(v.item_id for card in ai_cards.values() for v in card.verdicts))
    # Each scorecard of a call is its own entry: the AI's card, the one in force, the controllers' answers.
    scored: dict[str, list[tuple[Scorecard | None, Scorecard | None, dict[str, dict[str, str]]]]]
    scored = defaultdict(list)
    for key, card in ai_cards.items():
        scored[key[0]].append((card, effective[key], reviews.get(key, {})))

    agreement = (
        agreement_report(store, checklists, rule=rule, period=period, pool_items=pool_items, reps=500)
        if reviews
        else None
    )
    calls = [
        _call_view(call_id, records[call_id], transcripts.get(call_id), checklists, overrides, *entry)
        for call_id in records
        for entry in scored.get(call_id) or [(None, None, {})]
    ]
    calls.sort(key=_attention_order)
    return ReportData(
        language=language or _majority_language(ai_cards.values(), checklists),
        period=period,
        overview=_overview(records, transcripts, ai_cards, effective, reviews, overrides, len(known)),
        agents=_groups(ai_cards, effective, metadata, reviews, "agent", item_ids),
        teams=_groups(ai_cards, effective, metadata, reviews, "team", item_ids),
        item_ids=item_ids,
        items=_items(ai_cards, effective, checklists, agreement),
        totals=_totals_pairs(effective, reviews, checklists, metadata),
        agreement=agreement,
        pooled=pool_items,
        calls=calls[:max_calls],
        calls_left_out=max(0, len(calls) - max_calls),
    )


def mean_interval(values: list[float], confidence: float = CONFIDENCE) -> Interval:
    """Mean with a Student-t interval; no interval from a single value."""
    if not values:
        return Interval(value=None)
    centre = mean(values)
    if len(values) < 2:
        return Interval(value=centre)
    half = stats.t.ppf((1 + confidence) / 2, len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return Interval(value=centre, low=max(0.0, centre - half), high=min(100.0, centre + half))


def _card_key(card: Scorecard) -> CardKey:
    return (card.call_id, card.checklist_id)


def _reviews_by_card(
    reviews: list[HumanReview], cards: dict[CardKey, Scorecard]
) -> dict[CardKey, dict[str, dict[str, str]]]:
    """(call, checklist) -> item -> controller -> answer, for reviews of a current scorecard."""
    by_card: dict[CardKey, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for review in reviews:
        key = (review.call_id, review.checklist_id)
        if key in cards:
            by_card[key][review.item_id][review.reviewer] = str(review.answer)
    return by_card


def _first_controller(answers: dict[str, str]) -> str | None:
    """The same rule as calibration: per item, the first controller by name."""
    return answers[min(answers)] if answers else None


def _majority_language(cards: Iterable[Scorecard], checklists: dict[str, Checklist]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for card in cards:
        counts[checklists[card.checklist_id].language] += 1
    return max(counts, key=lambda lang: counts[lang]) if counts else "en"


def _overview(
    records: dict[str, dict[str, object]],
    transcripts: dict[str, Transcript],
    ai_cards: dict[CardKey, Scorecard],
    effective: dict[CardKey, Scorecard],
    reviews: dict[CardKey, dict[str, dict[str, str]]],
    overrides: list[Override],
    known_cards: int,
) -> Overview:
    totals = [card.total for card in effective.values() if card.total is not None]
    return Overview(
        calls=len(records),
        hours=sum(float(str(r["duration"])) for r in records.values()) / 3600,
        scored=len({call_id for call_id, _ in ai_cards}),
        scorecards=len(ai_cards),
        mean_total=mean_interval(totals),
        totals=totals,
        critical_fails=len({card.call_id for card in effective.values() if card.failed_critical}),
        critical_flags=len({card.call_id for card in effective.values() if card.flagged_critical}),
        flagged_segments=sum(bool(s.flags) for t in transcripts.values() for s in t.segments),
        items_to_people=sum(v.needs_human for card in ai_cards.values() for v in card.verdicts),
        calls_reviewed=len({call_id for call_id, _ in reviews}),
        overrides=len(overrides),
        stale_scorecards=known_cards - len(ai_cards),
    )


def _groups(
    ai_cards: dict[CardKey, Scorecard],
    effective: dict[CardKey, Scorecard],
    metadata: dict[str, CallMetadata],
    reviews: dict[CardKey, dict[str, dict[str, str]]],
    field: str,
    item_ids: list[str],
) -> list[GroupSummary]:
    members: dict[str, list[Scorecard]] = defaultdict(list)
    for card in effective.values():
        members[getattr(metadata[card.call_id], field) or "(none)"].append(card)
    groups = []
    for name, cards in sorted(members.items()):
        totals = [c.total for c in cards if c.total is not None]
        by_period: dict[str, list[float]] = defaultdict(list)
        for card in cards:
            if card.total is not None:
                by_period[period_of(metadata[card.call_id])].append(card.total)
        compared, disagreeing = _disagreements([ai_cards[_card_key(c)] for c in cards], reviews)
        groups.append(
            GroupSummary(
                name=name,
                calls=len({c.call_id for c in cards}),
                mean_total=mean_interval(totals),
                pass_rates={item_id: _pass_rate(cards, item_id) for item_id in item_ids},
                trend=[
                    PeriodMean(period=p, calls=len(v), mean_total=mean(v))
                    for p, v in sorted(by_period.items())
                ],
                compared_items=compared,
                disagreements=sum(disagreeing.values()),
                disagreement_rate=wilson_interval(sum(disagreeing.values()), compared),
                disagreeing_items=dict(sorted(disagreeing.items(), key=lambda kv: (-kv[1], kv[0]))),
            )
        )
    return groups


def _disagreements(
    cards: list[Scorecard], reviews: dict[CardKey, dict[str, dict[str, str]]]
) -> tuple[int, dict[str, int]]:
    """Items the AI answered and a controller reviewed on these calls, and where the two differ (the AI's
    own scorecards: an override is a person's answer, not the AI's)."""
    compared = 0
    disagreeing: dict[str, int] = defaultdict(int)
    for card in cards:
        for verdict in card.verdicts:
            ai = None if verdict.answer is None else str(verdict.answer)
            human = _first_controller(reviews.get(_card_key(card), {}).get(verdict.item_id, {}))
            if ai is None or human is None:
                continue
            compared += 1
            if ai != human:
                disagreeing[verdict.item_id] += 1
    return compared, disagreeing


def _pass_rate(cards: list[Scorecard], item_id: str) -> Interval:
    answers = [str(v.answer) for c in cards for v in c.verdicts if v.item_id == item_id]
    judged = [a for a in answers if a in ("yes", "no")]
    return wilson_interval(judged.count("yes"), len(judged))


def _items(
    ai_cards: dict[CardKey, Scorecard],
    effective: dict[CardKey, Scorecard],
    checklists: dict[str, Checklist],
    agreement: AgreementReport | None,
) -> list[ItemSummary]:
    by_checklist: dict[str, list[Scorecard]] = defaultdict(list)
    for card in effective.values():
        by_checklist[card.checklist_id].append(card)
    compared = {(i.group, i.item_id): i for i in agreement.items} if agreement else {}
    rows = []
    for checklist_id, cards in sorted(by_checklist.items()):
        checklist = checklists[checklist_id]
        for item in checklist.items:
            stats_ = compared.get((checklist_id, item.id)) or compared.get(("all", item.id))
            answered = [v for c in cards for v in c.verdicts if v.item_id == item.id and v.answer is not None]
            rows.append(
                ItemSummary(
                    group=checklist_id,
                    item_id=item.id,
                    question=item.question,
                    method="LLM" if item.method == "llm" else f"rule: {item.method}",
                    answered=len(answered),
                    pass_rate=_pass_rate(cards, item.id),
                    left_to_people=sum(
                        v.needs_human
                        for c in cards
                        for v in ai_cards[_card_key(c)].verdicts
                        if v.item_id == item.id
                    ),
                    reviewed=stats_.ai_human.n if stats_ else 0,
                    agreement=stats_.ai_human.agreement if stats_ else None,
                    kappa=stats_.ai_human.kappa.value if stats_ else None,
                    ac1=stats_.ai_human.ac1.value if stats_ else None,
                    trust=stats_.trust.status if stats_ else None,
                    trust_reason=stats_.trust.reason if stats_ else "",
                    overrides=sum("overridden" in v.flags for v in answered),
                )
            )
    return rows


def _totals_pairs(
    effective: dict[CardKey, Scorecard],
    reviews: dict[CardKey, dict[str, dict[str, str]]],
    checklists: dict[str, Checklist],
    metadata: dict[str, CallMetadata],
) -> list[TotalsPair]:
    """AI total against the first complete controller's total, scorecard by scorecard (the scatter
    chart)."""
    pairs = []
    for (call_id, checklist_id), by_item in sorted(reviews.items()):
        card = effective[(call_id, checklist_id)]
        checklist = checklists[checklist_id]
        if card.total is None or not card.complete:
            continue
        reviewers = sorted({name for answers in by_item.values() for name in answers})
        for reviewer in reviewers:
            given: dict[str, str | int] = {
                item_id: _typed(answers[reviewer])
                for item_id, answers in by_item.items()
                if reviewer in answers
            }
            total = human_total(checklist, call_id, given)
            if total is not None:
                pairs.append(
                    TotalsPair(
                        call_id=call_id,
                        checklist_id=checklist_id,
                        agent=metadata[call_id].agent,
                        ai=card.total,
                        human=total,
                    )
                )
                break
    return pairs


def _typed(answer: str) -> str | int:
    return int(answer) if answer.isdigit() else answer


def _call_view(
    call_id: str,
    record: dict[str, object],
    transcript: Transcript | None,
    checklists: dict[str, Checklist],
    overrides: list[Override],
    ai_card: Scorecard | None,
    effective: Scorecard | None,
    reviews: dict[str, dict[str, str]],
) -> CallView:
    audio = Path(str(record["audio_path"]))
    in_force = {
        o.item_id: o
        for o in overrides
        if ai_card and o.call_id == call_id and o.checklist_id == ai_card.checklist_id
    }
    verdicts = []
    if ai_card is not None:
        checklist = checklists[ai_card.checklist_id]
        for verdict in ai_card.verdicts:
            ai = None if verdict.answer is None else str(verdict.answer)
            human = dict(sorted(reviews.get(verdict.item_id, {}).items()))
            verdicts.append(
                VerdictView(
                    item_id=verdict.item_id,
                    question=checklist.item(verdict.item_id).question,
                    ai_answer=ai,
                    source=verdict.source,
                    confidence=verdict.confidence,
                    needs_human=verdict.needs_human,
                    flags=verdict.flags,
                    rationale=verdict.rationale,
                    evidence=verdict.evidence,
                    human=human,
                    override=in_force.get(verdict.item_id),
                    disagrees=ai is not None and any(answer != ai for answer in human.values()),
                )
            )
    metadata = record["metadata"]
    assert isinstance(metadata, CallMetadata)
    return CallView(
        call_id=call_id,
        metadata=metadata,
        duration=float(str(record["duration"])),
        language=transcript.language if transcript else None,
        audio_path=str(audio) if audio.is_file() else None,
        segments=[
            SegmentView(index=i, speaker=s.speaker, start=s.start, end=s.end, text=s.text, flags=s.flags)
            for i, s in enumerate(transcript.segments if transcript else [])
        ],
        checklist_id=ai_card.checklist_id if ai_card else None,
        checklist_version=ai_card.checklist_version if ai_card else None,
        ai_total=ai_card.total if ai_card else None,
        effective_total=effective.total if effective else None,
        complete=bool(effective and effective.complete),
        provisional=effective.provisional if effective else [],
        manipulation=effective.manipulation if effective else [],
        failed_critical=effective.failed_critical if effective else [],
        flagged_critical=effective.flagged_critical if effective else [],
        verdicts=verdicts,
        reviewed=bool(reviews),
    )


def _attention_order(call: CallView) -> tuple[int, int, str, str]:
    """Calls a supervisor should open first: disagreements, critical fails, items left to people."""
    disagreements = sum(v.disagrees for v in call.verdicts)
    urgent = (
        len(call.manipulation) * 8
        + disagreements * 4
        + len(call.failed_critical) * 2
        + sum(v.needs_human for v in call.verdicts)
    )
    return (-urgent, -int(call.reviewed), call.call_id, call.checklist_id or "")
