"""The whole pipeline as one call: transcribe, score, plan a review sample, write the report.

`qa-pipeline run`, a notebook and a cluster job call `run_pipeline` alike. Each stage is resumable on its
own (finished transcripts and scorecards are reused from the store), so a run that is stopped starts again
where it stopped.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.workflow import SamplePlan, plan_review, write_review_sheets
from qa_pipeline.errors import ConfigError
from qa_pipeline.judging.judge import Judge
from qa_pipeline.judging.options import JudgeOptions, make_judge
from qa_pipeline.judging.score_batch import ScoreResult, score_store, scoring_ok
from qa_pipeline.progress import Track, untracked
from qa_pipeline.report import write_html_report
from qa_pipeline.report.data import build_report
from qa_pipeline.store.database import Store
from qa_pipeline.transcription.batch import TranscriptionRun, transcribe_inputs
from qa_pipeline.transcription.ingest import IdFrom
from qa_pipeline.transcription.transcribe import TranscribeOptions
from qa_pipeline.workspace import Workspace


class PipelineOptions(BaseModel):
    """What `run_pipeline` does besides what each stage's own options say.

    Attributes:
        transcribe: how calls are transcribed.
        judge: how calls are judged; thresholds left unset are the workspace's fitted ones (when present).
        sample: plan a review sample of this many random calls (plus risk picks); 0 plans none.
        controllers: who reviews the sample (needed when `sample` is set).
        report: write the HTML report at the end.
        force: redo work even when the store has it.
        id_from: name calls by file stem or by path under the folder or manifest.
        replace: let a recording take a call id the store holds for other audio.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    transcribe: TranscribeOptions = Field(default_factory=TranscribeOptions)
    judge: JudgeOptions = Field(default_factory=JudgeOptions)
    sample: int = Field(default=0, ge=0)
    controllers: tuple[str, ...] = ()
    report: bool = True
    force: bool = False
    id_from: IdFrom = "stem"
    replace: bool = False


class PipelineResult(BaseModel):
    transcription: TranscriptionRun
    scores: list[ScoreResult]
    sample: SamplePlan | None = None
    review_sheets: list[Path] = []
    report: Path | None = None
    stage_seconds: dict[str, float]

    @property
    def ok(self) -> bool:
        """False when an input, a transcription or a scoring failed (the rest is still done and kept)."""
        return self.transcription.ok and scoring_ok(self.scores)


def workspace_judge(options: JudgeOptions, workspace: Workspace) -> Judge:
    """The judge `options` describe; thresholds left unset are the ones the team fitted in this workspace
    (used when the file exists), so a notebook gets the same judge as `qa-pipeline run --work-dir`."""
    if options.thresholds is None:
        options = options.model_copy(update={"thresholds": workspace.thresholds})
    return make_judge(options)


def run_pipeline(
    inputs: list[Path],
    checklists: list[Checklist],
    workspace: Workspace,
    options: PipelineOptions | None = None,
    *,
    track: Track = untracked,
) -> PipelineResult:
    options = options or PipelineOptions()
    if options.sample and not options.controllers:
        raise ConfigError("a review sample needs controllers (who reviews the sampled calls)")
    # Built before any work, so an option the judge cannot honour stops the run before transcription.
    judge = workspace_judge(options.judge, workspace)
    store = workspace.open_store()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    transcription = transcribe_inputs(
        inputs,
        options.transcribe,
        store,
        workspace.transcripts,
        force=options.force,
        id_from=options.id_from,
        replace=options.replace,
        track=track,
    )
    seconds["transcribe"] = time.perf_counter() - started
    scores: list[ScoreResult] = []
    if transcription.transcribed_ids:
        started = time.perf_counter()
        scores = score_store(
            store,
            checklists,
            judge,
            workspace.scorecards,
            calls=transcription.transcribed_ids,
            force=options.force,
            track=track,
        )
        seconds["score"] = time.perf_counter() - started
    return finish_pipeline(store, checklists, workspace, options, transcription, scores, seconds)


def finish_pipeline(
    store: Store,
    checklists: list[Checklist],
    workspace: Workspace,
    options: PipelineOptions,
    transcription: TranscriptionRun,
    scores: list[ScoreResult],
    seconds: dict[str, float],
) -> PipelineResult:
    """After the calls are scored, on whatever engine: plan the sample, write the sheets and the report."""
    by_id = {c.id: c for c in checklists}
    sample = sheets = None
    if options.sample and any(r.output for r in scores):
        sample = plan_review(store, by_id, controllers=list(options.controllers), size=options.sample)
        sheets = write_review_sheets(store, sample, by_id, workspace.review)
    report = write_html_report(build_report(store, by_id), workspace.report) if options.report else None
    return PipelineResult(
        transcription=transcription,
        scores=scores,
        sample=sample,
        review_sheets=sheets or [],
        report=report,
        stage_seconds={stage: round(s, 1) for stage, s in seconds.items()},
    )
