"""The numbers behind the supervisor report, read from the store.

Agent and team figures use the scorecards people stand behind (overrides applied), made against the loaded
version of their checklist; the per-call view keeps the AI's own answer, the override and each
controller's answer side by side, so a supervisor sees both what counts and where it came from.

A call may be scored against several checklists, so every figure is keyed by (call, checklist): each
scorecard gets its own entry in the call list, and a critical fail on any of them counts.

A store may hold hundreds of thousands of calls: the figures are added up in one pass over its scorecards
(a few numbers kept per call), and only the calls shown one by one are read in full.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from statistics import mean, stdev

from pydantic import BaseModel, Field
from scipy import stats

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.agreement import CONFIDENCE, Interval, wilson_interval
from qa_pipeline.control.calibration import (
    AgreementReport,
    TrustRule,
    TrustStatus,
    human_total,
    period_of,
)
from qa_pipeline.control.overrides import apply_overrides
from qa_pipeline.control.workflow import agreement_report, in_period, overrides_by_card
from qa_pipeline.models import (
    CallMetadata,
    Channel,
    Diarization,
    Evidence,
    HumanReview,
    ItemVerdict,
    ManipulationAttempt,
    Override,
    Scorecard,
    Speaker,
    Transcript,
)
from qa_pipeline.store.database import CallRecord, Store
from qa_pipeline.voc.repeats import DEFAULT_REPEAT_DAYS
from qa_pipeline.voc.validity import Validity, checklist_validity

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
    channel: Channel = "voice"
    timed: bool = Field(default=True, description="False: a chat or e-mail without times, nothing to play")
    diarization: Diarization | None = Field(
        default=None, description="a mono call's speakers, found by voice"
    )
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
    customer: Validity | None = Field(
        default=None,
        description="voice of the customer, checklist validity and EX-CX, when the store has VoC records "
        "or outcomes (over every period)",
    )


def build_report(
    store: Store,
    checklists: dict[str, Checklist],
    *,
    language: str | None = None,
    period: str | None = None,
    rule: TrustRule | None = None,
    pool_items: bool = False,
    max_calls: int = 200,
    stage_order: list[str] | None = None,
    repeat_days: int = DEFAULT_REPEAT_DAYS,
    customer: Validity | None = None,
) -> ReportData:
    """Every figure from one streaming pass over the store's scorecards, holding a few numbers per call;
    only the `max_calls` entries needing attention most are read again in full for the call list.
    `stage_order`: the customer journey's stages in order, for the VoC section's journey table;
    `customer`: that section's figures where the caller has just computed them (else computed here)."""
    metadata, hours = _calls_in_period(store, period)
    overrides = overrides_by_card(store.overrides())
    tally = _Tally(checklists, _reviews_by_card(store.human_reviews()))
    for card in store.scorecards():
        if card.checklist_id in checklists and card.call_id in metadata:
            tally.add(card, metadata[card.call_id], overrides.get(_card_key(card), []))
    # Unscored calls have an entry too: nothing urgent about them, so they come last.
    order = tally.order + [(0, 0, call_id, "") for call_id in metadata if call_id not in tally.scored]
    shown = heapq.nsmallest(max_calls, order)
    agreement = (
        agreement_report(store, checklists, rule=rule, period=period, pool_items=pool_items, reps=500)
        if tally.reviewed
        else None
    )
    flagged = sum(bool(s.flags) for t in store.transcripts() if t.call_id in metadata for s in t.segments)
    if customer is None and store.has_customer_data():
        customer = checklist_validity(store, checklists, stage_order=stage_order, repeat_days=repeat_days)
    return ReportData(
        language=language or _majority_language(tally.languages),
        period=period,
        overview=tally.overview(len(metadata), hours, flagged),
        agents=tally.groups("agent"),
        teams=tally.groups("team"),
        item_ids=list(tally.item_ids),
        items=tally.items(agreement),
        totals=sorted(tally.pairs, key=lambda pair: (pair.call_id, pair.checklist_id)),
        agreement=agreement,
        pooled=pool_items,
        calls=_call_views(store, checklists, shown, overrides, tally.reviews),
        calls_left_out=max(0, len(order) - max_calls),
        customer=customer,
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


def _calls_in_period(store: Store, period: str | None) -> tuple[dict[str, CallMetadata], float]:
    """The period's calls' metadata (a small record each, for grouping) and their hours."""
    metadata: dict[str, CallMetadata] = {}
    seconds = 0.0
    for record in store.calls():
        if in_period(record.metadata, period):
            metadata[record.call_id] = record.metadata
            seconds += record.duration
    return metadata, seconds / 3600


def _reviews_by_card(reviews: Iterable[HumanReview]) -> dict[CardKey, dict[str, dict[str, str]]]:
    """(call, checklist) -> item -> controller -> answer."""
    by_card: dict[CardKey, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for review in reviews:
        by_card[(review.call_id, review.checklist_id)][review.item_id][review.reviewer] = str(review.answer)
    return dict(by_card)


def _first_controller(answers: dict[str, str]) -> str | None:
    """The same rule as calibration: per item, the first controller by name."""
    return answers[min(answers)] if answers else None


def _answer(verdict: ItemVerdict) -> str | None:
    return None if verdict.answer is None else str(verdict.answer)


def _disagrees(ai: str | None, human: dict[str, str]) -> bool:
    """A controller's answer differs from the AI's."""
    return ai is not None and any(answer != ai for answer in human.values())


def _majority_language(counts: dict[str, int]) -> str:
    return max(counts, key=lambda lang: counts[lang]) if counts else "en"


Attention = tuple[int, int, str, str]
"""Smaller first: how urgent an entry is, whether a controller reviewed it, its call and checklist id."""


def _attention(ai_card: Scorecard, effective: Scorecard, reviews: dict[str, dict[str, str]]) -> Attention:
    """Calls a supervisor should open first: disagreements, critical fails, items left to people."""
    disagreements = sum(_disagrees(_answer(v), reviews.get(v.item_id, {})) for v in ai_card.verdicts)
    urgent = (
        len(effective.manipulation) * 8
        + disagreements * 4
        + len(effective.failed_critical) * 2
        + sum(v.needs_human for v in ai_card.verdicts)
    )
    return (-urgent, -int(bool(reviews)), ai_card.call_id, ai_card.checklist_id)


class _Answers:
    """Yes/no answers of one item over many scorecards: the item's pass rate."""

    def __init__(self) -> None:
        self.yes = 0
        self.judged = 0

    def add(self, verdict: ItemVerdict) -> None:
        answer = _answer(verdict)
        if answer in ("yes", "no"):
            self.judged += 1
            self.yes += answer == "yes"

    def pass_rate(self) -> Interval:
        return wilson_interval(self.yes, self.judged)


class _Group:
    """One agent's or team's running figures."""

    def __init__(self) -> None:
        self.calls = 0
        self.last_call: str | None = None
        self.totals: list[float] = []
        self.by_period: dict[str, list[float]] = defaultdict(list)
        self.answers: dict[str, _Answers] = defaultdict(_Answers)
        self.compared = 0
        self.disagreeing: dict[str, int] = defaultdict(int)

    def summary(self, name: str, item_ids: Iterable[str]) -> GroupSummary:
        disagreements = sum(self.disagreeing.values())
        return GroupSummary(
            name=name,
            calls=self.calls,
            mean_total=mean_interval(self.totals),
            pass_rates={item_id: self.answers[item_id].pass_rate() for item_id in item_ids},
            trend=[
                PeriodMean(period=p, calls=len(v), mean_total=mean(v))
                for p, v in sorted(self.by_period.items())
            ],
            compared_items=self.compared,
            disagreements=disagreements,
            disagreement_rate=wilson_interval(disagreements, self.compared),
            disagreeing_items=dict(sorted(self.disagreeing.items(), key=lambda kv: (-kv[1], kv[0]))),
        )


class _Item:
    """One checklist item's running figures over the scorecards in force."""

    def __init__(self) -> None:
        self.answered = 0
        self.answers = _Answers()
        self.left_to_people = 0
        self.overrides = 0


class _Tally:
    """The report's figures, added one scorecard at a time (in call id order) so that no scorecard is
    kept: a few numbers per call, the totals and the attention order of every entry."""

    def __init__(
        self, checklists: dict[str, Checklist], reviews: dict[CardKey, dict[str, dict[str, str]]]
    ) -> None:
        self.checklists = checklists
        self.all_reviews = reviews
        self.reviews: dict[CardKey, dict[str, dict[str, str]]] = {}  # those of current scorecards
        self.known = self.cards = self.items_to_people = self.overrides = 0
        self.scored: set[str] = set()
        self.scored_checklists: set[str] = set()
        self.reviewed: set[str] = set()
        self.critical_fails: set[str] = set()
        self.critical_flags: set[str] = set()
        self.totals: list[float] = []
        self.item_ids: dict[str, None] = {}
        self.languages: dict[str, int] = defaultdict(int)
        self.by_field: dict[str, dict[str, _Group]] = {
            "agent": defaultdict(_Group),
            "team": defaultdict(_Group),
        }
        self.by_item: dict[CardKey, _Item] = defaultdict(_Item)  # (checklist id, item id)
        self.order: list[Attention] = []
        self.pairs: list[TotalsPair] = []

    def add(self, card: Scorecard, metadata: CallMetadata, overrides: list[Override]) -> None:
        """A scorecard of a loaded checklist for a call of the period; one of another checklist version is
        only counted (stale)."""
        self.known += 1
        checklist = self.checklists[card.checklist_id]
        if card.checklist_version != checklist.version:
            return
        key = _card_key(card)
        effective = apply_overrides(card, checklist, overrides)
        reviews = self.all_reviews.get(key, {})
        self.cards += 1
        self.overrides += len(overrides)
        self.scored.add(card.call_id)
        self.scored_checklists.add(card.checklist_id)
        self.languages[checklist.language] += 1
        self.item_ids.update(dict.fromkeys(v.item_id for v in card.verdicts))
        self.items_to_people += sum(v.needs_human for v in card.verdicts)
        if effective.total is not None:
            self.totals.append(effective.total)
        if effective.failed_critical:
            self.critical_fails.add(card.call_id)
        if effective.flagged_critical:
            self.critical_flags.add(card.call_id)
        if reviews:
            self.reviews[key] = reviews
            self.reviewed.add(card.call_id)
            pair = _totals_pair(effective, reviews, checklist, metadata)
            if pair is not None:
                self.pairs.append(pair)
        self.order.append(_attention(card, effective, reviews))
        compared, disagreeing = _disagreements(card, reviews)
        for field in self.by_field:
            group = self.by_field[field][getattr(metadata, field) or "(none)"]
            if group.last_call != card.call_id:  # a call's scorecards come one after another
                group.calls += 1
                group.last_call = card.call_id
            if effective.total is not None:
                group.totals.append(effective.total)
                group.by_period[period_of(metadata)].append(effective.total)
            for verdict in effective.verdicts:
                group.answers[verdict.item_id].add(verdict)
            group.compared += compared
            for item_id in disagreeing:
                group.disagreeing[item_id] += 1
        for verdict in effective.verdicts:
            item = self.by_item[(card.checklist_id, verdict.item_id)]
            item.answers.add(verdict)
            if verdict.answer is not None:
                item.answered += 1
                item.overrides += "overridden" in verdict.flags
        for verdict in card.verdicts:
            self.by_item[(card.checklist_id, verdict.item_id)].left_to_people += verdict.needs_human

    def overview(self, calls: int, hours: float, flagged_segments: int) -> Overview:
        return Overview(
            calls=calls,
            hours=hours,
            scored=len(self.scored),
            scorecards=self.cards,
            mean_total=mean_interval(self.totals),
            totals=self.totals,
            critical_fails=len(self.critical_fails),
            critical_flags=len(self.critical_flags),
            flagged_segments=flagged_segments,
            items_to_people=self.items_to_people,
            calls_reviewed=len(self.reviewed),
            overrides=self.overrides,
            stale_scorecards=self.known - self.cards,
        )

    def groups(self, field: str) -> list[GroupSummary]:
        return [group.summary(name, self.item_ids) for name, group in sorted(self.by_field[field].items())]

    def items(self, agreement: AgreementReport | None) -> list[ItemSummary]:
        compared = {(i.group, i.item_id): i for i in agreement.items} if agreement else {}
        rows = []
        for checklist_id in sorted(self.scored_checklists):
            for item in self.checklists[checklist_id].items:
                stats_ = compared.get((checklist_id, item.id)) or compared.get(("all", item.id))
                tally = self.by_item.get((checklist_id, item.id), _Item())
                rows.append(
                    ItemSummary(
                        group=checklist_id,
                        item_id=item.id,
                        question=item.question,
                        method="LLM" if item.method == "llm" else f"rule: {item.method}",
                        answered=tally.answered,
                        pass_rate=tally.answers.pass_rate(),
                        left_to_people=tally.left_to_people,
                        reviewed=stats_.ai_human.n if stats_ else 0,
                        agreement=stats_.ai_human.agreement if stats_ else None,
                        kappa=stats_.ai_human.kappa.value if stats_ else None,
                        ac1=stats_.ai_human.ac1.value if stats_ else None,
                        trust=stats_.trust.status if stats_ else None,
                        trust_reason=stats_.trust.reason if stats_ else "",
                        overrides=tally.overrides,
                    )
                )
        return rows


def _disagreements(card: Scorecard, reviews: dict[str, dict[str, str]]) -> tuple[int, list[str]]:
    """Items the AI answered and a controller reviewed, and those where the two differ (the AI's own
    scorecard: an override is a person's answer, not the AI's)."""
    compared, disagreeing = 0, []
    for verdict in card.verdicts:
        ai, human = _answer(verdict), _first_controller(reviews.get(verdict.item_id, {}))
        if ai is None or human is None:
            continue
        compared += 1
        if ai != human:
            disagreeing.append(verdict.item_id)
    return compared, disagreeing


def _totals_pair(
    effective: Scorecard, by_item: dict[str, dict[str, str]], checklist: Checklist, metadata: CallMetadata
) -> TotalsPair | None:
    """The AI total against the first complete controller's total (the scatter chart)."""
    if effective.total is None or not effective.complete:
        return None
    for reviewer in sorted({name for answers in by_item.values() for name in answers}):
        given: dict[str, str | int] = {
            item_id: _typed(answers[reviewer]) for item_id, answers in by_item.items() if reviewer in answers
        }
        total = human_total(checklist, effective.call_id, given)
        if total is not None:
            return TotalsPair(
                call_id=effective.call_id,
                checklist_id=effective.checklist_id,
                agent=metadata.agent,
                ai=effective.total,
                human=total,
            )
    return None


def _typed(answer: str) -> str | int:
    return int(answer) if answer.isdigit() else answer


def _call_views(
    store: Store,
    checklists: dict[str, Checklist],
    shown: list[Attention],
    overrides: dict[CardKey, list[Override]],
    reviews: dict[CardKey, dict[str, dict[str, str]]],
) -> list[CallView]:
    """The shown entries, in attention order, read again in full: transcripts and scorecards of these
    calls only."""
    call_ids = {call_id for _, _, call_id, _ in shown}
    records = {record.call_id: record for record in store.calls(call_ids)}
    cards = {_card_key(card): card for card in store.scorecards(call_ids)}
    transcripts = {t.call_id: t for t in store.transcripts(call_ids)}
    views = []
    for _, _, call_id, checklist_id in shown:
        card = cards.get((call_id, checklist_id))
        if call_id not in records:  # deleted while the report was read
            continue
        effective = (
            apply_overrides(card, checklists[checklist_id], overrides.get((call_id, checklist_id), []))
            if card
            else None
        )
        views.append(
            _call_view(
                records[call_id],
                transcripts.get(call_id),
                checklists,
                overrides.get((call_id, checklist_id), []),
                card,
                effective,
                reviews.get((call_id, checklist_id), {}),
            )
        )
    return views


def _call_view(
    record: CallRecord,
    transcript: Transcript | None,
    checklists: dict[str, Checklist],
    overrides: list[Override],
    ai_card: Scorecard | None,
    effective: Scorecard | None,
    reviews: dict[str, dict[str, str]],
) -> CallView:
    audio = Path(record.audio_path)
    in_force = {o.item_id: o for o in overrides}
    verdicts = []
    if ai_card is not None:
        checklist = checklists[ai_card.checklist_id]
        for verdict in ai_card.verdicts:
            ai = _answer(verdict)
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
                    disagrees=_disagrees(ai, human),
                )
            )
    return CallView(
        call_id=record.call_id,
        metadata=record.metadata,
        duration=record.duration,
        language=transcript.language if transcript else None,
        channel=transcript.channel if transcript else "voice",
        timed=transcript.timed if transcript else True,
        diarization=transcript.diarization if transcript else None,
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
