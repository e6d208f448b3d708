"""The demo: the whole pipeline on the shipped demo corpus, measured against the scripts it was made from.

Every demo call was synthesised from a dialogue script that records its words and the answers it was written
to get, so the demo can show word error rates and item agreement with known truth, then run human control
on the seed controllers' scores: a sample, the import, agreement and the trust map. It ends with the voice
of the customer: each call's reason, resolution, effort and sentiment, and the checklist's validity against
the shipped synthetic outcomes (labelled as synthetic wherever they are shown).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from qa_pipeline.checklist import Checklist, load_checklists
from qa_pipeline.control.calibration import AgreementReport, TrustRule
from qa_pipeline.control.calibration_files import write_agreement
from qa_pipeline.control.workflow import (
    ImportResult,
    SamplePlan,
    agreement_report,
    import_review_sheets,
    plan_review,
    write_review_sheets,
)
from qa_pipeline.demo_corpus import DialogueScript, expected_scorecard, item_agreement, load_scripts
from qa_pipeline.errors import ConfigError
from qa_pipeline.judging.backends import ItemBackend
from qa_pipeline.judging.options import JudgeOptions
from qa_pipeline.judging.score_batch import ScoreResult, score_store, scoring_ok
from qa_pipeline.models import Scorecard, Transcript
from qa_pipeline.pipeline import workspace_judge
from qa_pipeline.progress import Track, untracked
from qa_pipeline.report import write_html_report
from qa_pipeline.report.data import build_report
from qa_pipeline.resources import default_checklists, default_demo_corpus
from qa_pipeline.store.database import Store
from qa_pipeline.transcription.batch import TranscriptionRun, transcribe_inputs
from qa_pipeline.transcription.transcribe import TranscribeOptions
from qa_pipeline.transcription.wer import word_error_rate
from qa_pipeline.voc.extract import VocRecord
from qa_pipeline.voc.outcomes import read_outcomes
from qa_pipeline.voc.stage import extract_store
from qa_pipeline.voc.taxonomy import shipped_taxonomies
from qa_pipeline.voc.validity import Validity, checklist_validity
from qa_pipeline.workspace import Workspace

DEMO_CONTROLLERS = ("qa.elena", "qa.mikhail")  # the seed controllers whose scores ship in human_scores/


class DemoOptions(BaseModel):
    """Attributes:
    seeds: the demo corpus (manifest.csv, audio/, scripts/, human_scores/); default the shipped one.
    checklists: the folder of checklists, chosen per call by language; default as for scoring.
    transcribe: how the demo calls are transcribed.
    judge: how they are judged; None transcribes only.
    min_reviews: reviewed calls an item needs before the trust map lets the AI score it alone.
    limit: only the first N demo calls; 0 takes all.
    force: redo work even when cached.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seeds: Path | None = None
    checklists: Path | None = None
    transcribe: TranscribeOptions = Field(
        default_factory=lambda: TranscribeOptions(whisper_model="bundled:base", languages=("en", "ru"))
    )
    judge: JudgeOptions | None = Field(default_factory=JudgeOptions)
    min_reviews: int = Field(default=10, ge=1)
    limit: int = Field(default=0, ge=0)
    force: bool = False


class DemoCall(BaseModel):
    """One demo call's transcription against its script."""

    call_id: str
    language: str
    duration: float
    segments: int
    flagged: int
    talk_agent: float
    talk_customer: float
    silence: float
    overtalk: float
    wer_agent: float | None = None
    wer_customer: float | None = None


class DemoScore(BaseModel):
    """One demo scorecard against the answers its script was written to get."""

    call_id: str
    checklist: str
    ai_total: float | None
    expected_total: float | None
    ai_fatal: list[str]
    expected_fatal: list[str]
    provisional: list[str] = Field(description="why the AI total waits for a person, if it does")
    items_agreeing: int
    items_answered: int
    by_source: dict[str, tuple[int, int]] = Field(description="agreeing and answered items, rule and llm")
    mean_confidence: float | None
    unmatched_evidence: int
    needs_human: int


class DemoHumanControl(BaseModel):
    plan: SamplePlan
    sheets: list[Path]
    imports: list[ImportResult]
    agreement: AgreementReport


class DemoCustomer(BaseModel):
    """The voice of the customer on the demo calls, and validity from the synthetic outcomes."""

    records: list[VocRecord]
    outcome_files: list[Path]
    validity: Validity


class DemoResult(BaseModel):
    transcription: TranscriptionRun
    calls: list[DemoCall]
    score_results: list[ScoreResult]
    scores: list[DemoScore]
    human_control: DemoHumanControl | None
    customer: DemoCustomer | None = None
    report: Path

    @property
    def ok(self) -> bool:
        return self.transcription.ok and scoring_ok(self.score_results)


def run_demo(
    workspace: Workspace, options: DemoOptions | None = None, *, track: Track = untracked
) -> DemoResult:
    options = options or DemoOptions()
    seeds = options.seeds or default_demo_corpus()
    checklists_dir = options.checklists or default_checklists()
    manifest = seeds / "manifest.csv"
    if not manifest.is_file():
        raise ConfigError(f"{manifest}: demo corpus not found")
    scripts = load_scripts(seeds / "scripts")
    # Built before any work, so an option the judge cannot honour stops the demo before transcription.
    judge = workspace_judge(options.judge, workspace) if options.judge is not None else None
    store = workspace.open_store()
    transcription = transcribe_inputs(
        [manifest],
        options.transcribe,
        store,
        workspace.transcripts,
        force=options.force,
        limit=options.limit,
        track=track,
    )
    calls = [
        _demo_call(Transcript.model_validate_json(Path(r.output).read_text(encoding="utf-8")), scripts)
        for r in transcription.results
        if r.output is not None
    ]
    checklists = load_checklists([checklists_dir])
    score_results: list[ScoreResult] = []
    if judge is not None and transcription.transcribed_ids:
        score_results = score_store(
            store,
            checklists,
            judge,
            workspace.scorecards,
            calls=transcription.transcribed_ids,
            force=options.force,
            track=track,
        )
    scores = [_demo_score(r, scripts, checklists) for r in score_results if r.output]
    by_id = {c.id: c for c in checklists}
    rule = TrustRule(min_reviews=options.min_reviews)
    control = _human_control(store, seeds, by_id, workspace, rule) if judge is not None else None
    customer = None
    if judge is not None and isinstance(judge.backend, ItemBackend) and transcription.transcribed_ids:
        customer = _customer(store, seeds, by_id, judge.backend, transcription.transcribed_ids, options.force)
    # The demo's checklists share item ids across languages, so items are pooled like its trust map.
    validity = customer.validity if customer is not None else None
    report = write_html_report(
        build_report(store, by_id, rule=rule, pool_items=True, customer=validity), workspace.report
    )
    return DemoResult(
        transcription=transcription,
        calls=calls,
        score_results=score_results,
        scores=scores,
        human_control=control,
        customer=customer,
        report=report,
    )


def _customer(
    store: Store,
    seeds: Path,
    checklists: dict[str, Checklist],
    backend: ItemBackend,
    calls: list[str],
    force: bool,
) -> DemoCustomer:
    """VoC on the demo calls with the judge's model, then the synthetic outcomes and their analysis."""
    for _ in extract_store(store, shipped_taxonomies(), backend, calls=calls, force=force):
        pass  # each record is saved as it is made
    records = [VocRecord.model_validate(r) for r in store.voc_records(calls)]
    files = sorted((seeds / "outcomes").glob("*.csv"))
    for path in files:
        read = read_outcomes(path)
        if read.problems:
            raise ConfigError(f"{path}: {read.problems[0]}")
        store.save_outcomes(read.surveys, read.enps)
    return DemoCustomer(records=records, outcome_files=files, validity=checklist_validity(store, checklists))


def _human_control(
    store: Store, seeds: Path, checklists: dict[str, Checklist], workspace: Workspace, rule: TrustRule
) -> DemoHumanControl:
    """Plan a blind review sample, import the seed controllers' scores, measure agreement."""
    plan = plan_review(
        store, checklists, controllers=list(DEMO_CONTROLLERS), size=8, risk_picks=2, include_reviewed=True
    )
    sheets = write_review_sheets(store, plan, checklists, workspace.review)
    imports = import_review_sheets(store, sorted((seeds / "human_scores").glob("*.csv")), checklists)
    # The demo's checklists share item ids across languages, so items are pooled over its 12 calls.
    agreement = agreement_report(store, checklists, rule=rule, pool_items=True)
    write_agreement(agreement, workspace.agreement)
    return DemoHumanControl(plan=plan, sheets=sheets, imports=imports, agreement=agreement)


def _demo_call(transcript: Transcript, scripts: dict[str, DialogueScript]) -> DemoCall:
    call = DemoCall(
        call_id=transcript.call_id,
        language=transcript.language,
        duration=transcript.duration,
        segments=len(transcript.segments),
        flagged=sum(bool(s.flags) for s in transcript.segments),
        talk_agent=transcript.timings.talk_time.get("agent", 0.0),
        talk_customer=transcript.timings.talk_time.get("customer", 0.0),
        silence=transcript.timings.silence_total,
        overtalk=transcript.timings.overtalk_total,
    )
    script = scripts.get(transcript.call_id)
    if script is not None:
        call.wer_agent = round(
            word_error_rate(script.reference_text("agent"), transcript.text_by_speaker("agent")), 3
        )
        call.wer_customer = round(
            word_error_rate(script.reference_text("customer"), transcript.text_by_speaker("customer")), 3
        )
    return call


def _demo_score(
    result: ScoreResult, scripts: dict[str, DialogueScript], checklists: list[Checklist]
) -> DemoScore:
    card = Scorecard.model_validate_json(Path(str(result.output)).read_text(encoding="utf-8"))
    checklist = next(c for c in checklists if c.id == card.checklist_id)
    truth = expected_scorecard(scripts[card.call_id], checklist)
    agreement = item_agreement(card, truth)
    confidences = [v.confidence for v in card.verdicts if v.confidence is not None]
    sources = {v.item_id: v.source for v in card.verdicts}
    return DemoScore(
        call_id=card.call_id,
        checklist=card.checklist_id,
        ai_total=card.total,
        expected_total=truth.total,
        ai_fatal=card.failed_critical,
        expected_fatal=truth.failed_critical,
        provisional=card.provisional,
        items_agreeing=sum(agreement.values()),
        items_answered=len(agreement),
        by_source={
            source: (
                sum(ok for item, ok in agreement.items() if sources[item] == source),
                sum(sources[item] == source for item in agreement),
            )
            for source in ("rule", "llm")
        },
        mean_confidence=round(sum(confidences) / len(confidences), 3) if confidences else None,
        unmatched_evidence=sum("evidence_not_found" in v.flags for v in card.verdicts),
        needs_human=sum(v.needs_human for v in card.verdicts),
    )
