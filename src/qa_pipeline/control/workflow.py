"""Human control over the store: plan a review sample, write and import sheets, compute agreement.

The CLI commands `sample`, `import-scores`, `calibrate`, `override` and `export-scores` are thin layers over
these functions, so a notebook or a service can drive the same workflow.

Scorecards are read from the store as a stream: a store holds far more calls than memory holds scorecards,
so each function keeps only what it needs (reviewed scorecards, slim sampling candidates, counts).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import BaseModel, Field

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.agreement import sample_size_for_width
from qa_pipeline.control.calibration import (
    AgreementReport,
    TrustRule,
    calibrate,
    most_corrected,
    most_disputed,
    weak_items,
)
from qa_pipeline.control.overrides import apply_overrides, make_override
from qa_pipeline.control.review_sheets import (
    CallInfo,
    holds_answers,
    read_sheet,
    review_rows,
    write_csv,
    write_xlsx,
)
from qa_pipeline.control.sampling import Candidate, SamplePlanOptions, plan_sample, ranked_risks
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import CallMetadata, Override, SamplePick, Scorecard
from qa_pipeline.store.database import ReviewImport, Store
from qa_pipeline.transcription.batch import write_json_atomic

logger = logging.getLogger(__name__)


def in_period(metadata: CallMetadata | None, period: str | None) -> bool:
    """`period` is a prefix of the call's ISO date: 2026, 2026-10 or 2026-10-05."""
    return period is None or bool(metadata and metadata.date and metadata.date.startswith(period))


def _call_metadata(store: Store) -> dict[str, CallMetadata]:
    """Every call's metadata, a small record each: scopes, strata and periods look calls up by id."""
    return {record.call_id: record.metadata for record in store.calls()}


def _in_scope(
    cards: Iterable[Scorecard],
    metadata: dict[str, CallMetadata],
    checklists: dict[str, Checklist],
    period: str | None,
) -> Iterator[Scorecard]:
    """Scorecards of the loaded checklists for calls of the period (of any checklist version: calibration
    leaves out and counts those of another version)."""
    return (
        card
        for card in cards
        if card.checklist_id in checklists and in_period(metadata.get(card.call_id), period)
    )


def _is_stale(card: Scorecard, checklists: dict[str, Checklist]) -> bool:
    return card.checklist_version != checklists[card.checklist_id].version


def _versions(stale: set[tuple[str, str]], checklists: dict[str, Checklist]) -> str:
    """The stale scorecards' (checklist id, version) pairs, as "inbound-service-en v2.0, now v2.1"."""
    return "; ".join(f"{cid} v{version}, now v{checklists[cid].version}" for cid, version in sorted(stale))


def _reviewed_cards(store: Store, reviewed: set[tuple[str, str]]) -> list[Scorecard]:
    """The scorecards people reviewed, read by call id: agreement needs no other scorecard."""
    cards = store.scorecards({call_id for call_id, _ in reviewed})
    return [card for card in cards if (card.call_id, card.checklist_id) in reviewed]


def overrides_by_card(overrides: Iterable[Override]) -> dict[tuple[str, str], list[Override]]:
    """(call id, checklist id) -> its overrides, oldest first: each scorecard gets only its own, so applying
    them to every scorecard of a large store costs one look-up each, not a scan of all overrides."""
    by_card: dict[tuple[str, str], list[Override]] = defaultdict(list)
    for override in overrides:
        by_card[(override.call_id, override.checklist_id)].append(override)
    return dict(by_card)


def _candidate(card: Scorecard, metadata: CallMetadata, options: SamplePlanOptions) -> Candidate:
    """A candidate keeps only what ranking and picking read, since every scored call of the period is
    held at once. Each reason ranking gives about verdicts is about one verdict on its own (left to a
    person, weak, corrected, unsure), so a verdict is kept only when ranking finds a reason in it alone,
    and without its evidence, rationale and probabilities, which no reason quotes."""
    bare = card.model_copy(
        update={
            "verdicts": [],
            "manipulation": [],
            "failed_critical": [],
            "flagged_critical": [],
            "total": None,
        }
    )
    verdicts = [
        v.model_copy(update={"evidence": [], "rationale": "", "probabilities": {}})
        for v in card.verdicts
        if ranked_risks(bare.model_copy(update={"verdicts": [v]}), options)
    ]
    return Candidate(scorecard=card.model_copy(update={"verdicts": verdicts, "judge": {}}), metadata=metadata)


class SamplePlan(BaseModel):
    sample_id: str
    period: str | None
    population: int
    size_reason: str
    options: SamplePlanOptions
    picks: list[SamplePick]
    stale_scorecards: int = Field(
        default=0, description="calls not sampled: scored against another checklist version, to rescore"
    )


def plan_review(
    store: Store,
    checklists: dict[str, Checklist],
    *,
    controllers: list[str],
    size: int | None = None,
    precision: float | None = None,
    expected_agreement: float = 0.5,
    period: str | None = None,
    include_reviewed: bool = False,
    risk_picks: int | None = None,
    name: str = "",
    **options: object,
) -> SamplePlan:
    """Pick calls for review from the scored calls of a period; size fixed or from the wanted CI width.
    `name` keeps one sample apart from another of the same period and seed (the VoC sample: "voc")."""
    if (size is None) == (precision is None):
        raise ConfigError("give either --size (calls) or --precision (width of the agreement interval)")
    metadata = _call_metadata(store)
    reviews = store.human_reviews()
    reviewed = {(r.call_id, r.checklist_id) for r in reviews}
    # Only which items people doubt so far: the intervals need few resamples here.
    report = calibrate(_reviewed_cards(store, reviewed), reviews, checklists, metadata=metadata, reps=200)
    # What ranks risks is known before the size is (that needs the population), and ranking reads no size.
    risk_options = SamplePlanOptions(
        size=1,
        controllers=controllers,
        weak_items=weak_items(report),
        corrected_items=most_corrected(store.overrides()),
        disputed_items=most_disputed(store.disputes()),
        **options,
    )
    candidates: list[Candidate] = []
    stale, stale_versions = 0, set[tuple[str, str]]()
    for card in _in_scope(store.scorecards(), metadata, checklists, period):
        if _is_stale(card, checklists):
            stale += 1
            stale_versions.add((card.checklist_id, card.checklist_version))
        elif include_reviewed or (card.call_id, card.checklist_id) not in reviewed:
            candidates.append(_candidate(card, metadata.get(card.call_id, CallMetadata()), risk_options))
    if not candidates and stale:
        raise ConfigError(
            f"{stale} scorecards were scored against another version of their checklist "
            f"({_versions(stale_versions, checklists)}): run qa-pipeline score to rescore them before "
            "sampling"
        )
    population = len(candidates)
    if precision is not None:
        size = sample_size_for_width(precision, expected=expected_agreement, population=population or None)
        size_reason = (
            f"an agreement interval {precision:.0%} wide (expected agreement {expected_agreement:.0%}) "
            f"needs {size} of {population} calls"
        )
    else:
        size_reason = f"fixed size {size}"
    assert size is not None
    plan_options = SamplePlanOptions.model_validate(
        risk_options.model_dump()
        | {"size": max(size, 1), "risk_picks": risk_picks if risk_picks is not None else max(1, size // 4)}
    )
    picks = plan_sample(candidates, plan_options)
    sample_id = f"{name + '-' if name else ''}{period or 'all'}-seed{plan_options.seed}"
    store.save_sample(sample_id, picks, keep=reviewed)
    return SamplePlan(
        sample_id=sample_id,
        period=period,
        population=population,
        size_reason=size_reason,
        options=plan_options,
        picks=picks,
        stale_scorecards=stale,
    )


def write_review_sheets(
    store: Store, plan: SamplePlan, checklists: dict[str, Checklist], out: Path, *, show_ai: bool = False
) -> list[Path]:
    """One XLSX and one CSV per controller, and the plan as JSON; blind unless `show_ai`. A sheet that
    holds answers is never overwritten (they may not be imported yet): the new one is written beside it."""
    out.mkdir(parents=True, exist_ok=True)
    picked = {pick.call_id for pick in plan.picks}
    calls = {
        r.call_id: CallInfo(
            audio_path=r.audio_path, duration=r.duration, agent=r.metadata.agent, date=r.metadata.date
        )
        for r in store.calls(picked)
    }
    cards = {(c.call_id, c.checklist_id): c for c in store.scorecards(picked)} if show_ai else None
    transcripts = {t.call_id: t for t in store.transcripts(picked)}
    written: list[Path] = []
    controllers = sorted({name for pick in plan.picks for name in pick.reviewers})
    for controller in controllers:
        rows = review_rows(plan.picks, controller, checklists, calls, cards)
        xlsx, csv = _free_sheet_paths(out, f"review-{_safe(controller)}", taken=set(written))
        write_xlsx(xlsx, rows, transcripts)
        write_csv(csv, rows)
        written += [xlsx, csv]
    write_json_atomic(out / "plan.json", plan)
    written.append(out / "plan.json")
    return written


def _free_sheet_paths(out: Path, stem: str, taken: set[Path]) -> tuple[Path, Path]:
    """The XLSX and CSV paths for a controller's new sheet: `stem`, else `stem-2`, `stem-3`... Paths
    written in this run are taken too: "ann" may move to review-ann-2 while "ann-2" is a controller."""
    number = 1
    while True:
        name = stem if number == 1 else f"{stem}-{number}"
        # Names such as "qa.elena" hold dots, so the extension is appended, never swapped in.
        pair = out / f"{name}.xlsx", out / f"{name}.csv"
        kept = [path for path in pair if path not in taken and path.exists() and holds_answers(path)]
        if kept:
            logger.warning(
                "%s may hold answers that are not imported yet: kept; the new sheet goes beside it", kept[0]
            )
        elif not taken.intersection(pair):
            return pair
        number += 1


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


class ImportResult(BaseModel):
    file: str
    counts: ReviewImport
    problems: list[str]
    unanswered: int


def import_review_sheets(
    store: Store, files: list[Path], checklists: dict[str, Checklist]
) -> list[ImportResult]:
    """Good rows of every sheet are stored even when other rows are bad; re-importing changes nothing."""
    known = {record.call_id for record in store.calls()}
    results = []
    for path in files:
        try:
            sheet = read_sheet(path, checklists, known)
        except ConfigError as exc:
            results.append(
                ImportResult(file=str(path), counts=ReviewImport(), problems=[str(exc)], unanswered=0)
            )
            continue
        counts = store.save_reviews(sheet.reviews)
        results.append(
            ImportResult(file=str(path), counts=counts, problems=sheet.problems, unanswered=sheet.unanswered)
        )
    return results


def agreement_report(
    store: Store,
    checklists: dict[str, Checklist],
    *,
    rule: TrustRule | None = None,
    period: str | None = None,
    pool_items: bool = False,
    baseline_only: bool = False,
    reps: int = 2000,
    seed: int = 0,
) -> AgreementReport:
    metadata = _call_metadata(store)
    reviews = store.human_reviews()
    reviewed = {(r.call_id, r.checklist_id) for r in reviews}
    # Agreement needs the reviewed scorecards only; the others are streamed past to count the stale ones.
    cards, stale = [], 0
    for card in _in_scope(store.scorecards(), metadata, checklists, period):
        stale += _is_stale(card, checklists)
        if (card.call_id, card.checklist_id) in reviewed:
            cards.append(card)
    kinds: dict[tuple[str, str], str] = {}
    for pick in store.sample_picks():  # a call picked at random in any sample counts as random
        key = (pick.call_id, pick.checklist_id)
        kinds[key] = "random" if pick.kind == "random" or kinds.get(key) == "random" else pick.kind
    report = calibrate(
        cards,
        reviews,
        checklists,
        metadata=metadata,
        overrides=store.overrides(),
        disputes=store.disputes(),
        rule=rule,
        pool_items=pool_items,
        pick_kinds=kinds,
        baseline_only=baseline_only,
        reps=reps,
        seed=seed,
    )
    return report.model_copy(update={"stale_scorecards": stale})


def _scorecard_of(store: Store, call_id: str, checklist_id: str | None) -> Scorecard:
    cards = list(store.scorecards([call_id]))
    if checklist_id:
        cards = [c for c in cards if c.checklist_id == checklist_id]
    if not cards:
        raise ConfigError(f"no scorecard for call {call_id!r} in {store.url}")
    if len(cards) > 1:
        raise ConfigError(f"call {call_id!r} was scored against several checklists; give --checklist-id")
    return cards[0]


def record_override(
    store: Store,
    checklists: dict[str, Checklist],
    *,
    call_id: str,
    item_id: str,
    answer: str,
    supervisor: str,
    comment: str,
    checklist_id: str | None = None,
) -> tuple[Scorecard, Scorecard]:
    """Store the override; returns the effective scorecard before and after it."""
    card = _scorecard_of(store, call_id, checklist_id)
    checklist = checklists.get(card.checklist_id)
    if checklist is None:
        raise ConfigError(f"checklist {card.checklist_id!r} of call {call_id} is not loaded (--checklist)")
    earlier = store.overrides()
    override = make_override(card, checklist, item_id, answer, supervisor, comment)
    store.add_override(override)
    return apply_overrides(card, checklist, earlier), apply_overrides(card, checklist, [*earlier, override])


class ExportResult(BaseModel):
    written: list[str]
    held_back: list[str] = Field(
        description="scorecards held back, as <call_id>.<checklist_id> (the name their file would have): "
        "a call scored against two checklists may leave with one and be held back with the other"
    )


def export_scorecards(
    store: Store, checklists: dict[str, Checklist], out: Path, *, hold_back: bool, period: str | None = None
) -> ExportResult:
    """Scorecards as people stand behind them (overrides applied); with `hold_back`, only calls a person
    has reviewed or corrected leave, so agents never see an unchecked AI score."""
    out.mkdir(parents=True, exist_ok=True)
    overrides = overrides_by_card(store.overrides())
    touched = {(r.call_id, r.checklist_id) for r in store.human_reviews()} | set(overrides)
    result = ExportResult(written=[], held_back=[])
    for card in _in_scope(store.scorecards(), _call_metadata(store), checklists, period):
        name = f"{card.call_id}.{card.checklist_id}"
        if hold_back and (card.call_id, card.checklist_id) not in touched:
            result.held_back.append(name)
            continue
        key = (card.call_id, card.checklist_id)
        effective = apply_overrides(card, checklists[card.checklist_id], overrides.get(key, []))
        path = out / f"{name}.json"
        write_json_atomic(path, effective)
        result.written.append(str(path))
    return result
