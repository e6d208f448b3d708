"""`qa-pipeline run`: transcribe, score and (when asked) plan a review sample in one command.

Each stage is the same as its own command and as resumable: a run that is stopped starts again where it
stopped, because finished transcripts and scorecards are reused from the store.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.checklist import load_checklists
from qa_pipeline.cli._options import (
    PREFIXED_JUDGE_FLAGS,
    IdFromOption,
    JsonOption,
    LanguageOption,
    LanguagesOption,
    ReplaceOption,
    judge_device,
    judge_options,
)
from qa_pipeline.cli._scoring import print_scoring_summary, run_scoring
from qa_pipeline.cli.sample import print_plan
from qa_pipeline.cli.transcribe import (
    check_languages,
    parse_languages,
    print_transcription_summary,
    run_transcription,
    transcription_report,
)
from qa_pipeline.errors import ConfigError
from qa_pipeline.human_control import plan_review, write_review_sheets
from qa_pipeline.judging.options import TEAM_THRESHOLDS, make_judge
from qa_pipeline.report import write_html_report
from qa_pipeline.report.data import build_report
from qa_pipeline.resources import default_checklists
from qa_pipeline.store import Store
from qa_pipeline.transcribe import TranscribeOptions


def run(
    inputs: Annotated[list[Path], typer.Argument(help="Audio files, folders of audio, or a manifest CSV.")],
    checklist: Annotated[
        list[Path] | None,
        typer.Option(help="Checklist file or folder (repeatable); default checklists/ here, else shipped."),
    ] = None,
    work_dir: Annotated[
        Path, typer.Option(help="Transcripts, scorecards, review sheets and the report go here.")
    ] = Path("qa-work"),
    store: Annotated[
        str | None, typer.Option(help="SQLite file or SQLAlchemy URL; default WORK_DIR/qa.sqlite.")
    ] = None,
    whisper_model: Annotated[
        str, typer.Option(help="Whisper model: size, HF id, local folder, bundled:base, auto.")
    ] = "auto",
    device: Annotated[
        str, typer.Option(help="auto, cpu or cuda (Whisper and the transformers judge).")
    ] = "auto",
    language: LanguageOption = None,
    languages: LanguagesOption = None,
    batch_size: Annotated[
        int, typer.Option(help="Whisper batched inference size; 0 = auto (by device, cores and memory).")
    ] = 0,
    judge_backend: Annotated[
        str,
        typer.Option(
            help="auto (openai with --base-url, else transformers on CUDA, else llama.cpp), llama, "
            "transformers, openai."
        ),
    ] = "auto",
    judge_model: Annotated[str, typer.Option(help="Judge model; auto picks by device.")] = "auto",
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible judge server, e.g. http://localhost:8000/v1.")
    ] = None,
    redact_pii: Annotated[
        bool, typer.Option("--redact-pii", help="Remove personal data from transcripts before storing.")
    ] = False,
    sample: Annotated[
        int, typer.Option(help="Plan a review sample of this many random calls (plus risk picks); 0 = none.")
    ] = 0,
    controllers: Annotated[
        str, typer.Option(help="Comma-separated controllers for the sample's review sheets.")
    ] = "",
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write WORK_DIR/report.html at the end.")
    ] = True,
    force: Annotated[bool, typer.Option(help="Redo work even when cached.")] = False,
    id_from: IdFromOption = "stem",
    replace: ReplaceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Transcribe and score calls (and plan a review sample) in one go; each stage shows its progress."""
    names = [name.strip() for name in controllers.split(",") if name.strip()]
    if sample and not names:
        raise ConfigError("--sample needs --controllers (who reviews the sampled calls)")
    check_languages([language] if language else [], "--language")
    checklists = load_checklists(checklist or [default_checklists()])
    project = Store(store or work_dir / "qa.sqlite")
    options = TranscribeOptions(
        whisper_model=whisper_model,
        device=device,
        language=language,
        languages=parse_languages(languages),
        batch_size=batch_size,
        redact_pii=redact_pii,
    )
    # Built before any work, so an option the judge cannot honour stops the run before transcription.
    judge = make_judge(
        judge_options(
            PREFIXED_JUDGE_FLAGS,
            backend=judge_backend,
            model=judge_model,
            device=judge_device(device, judge_backend, base_url),
            base_url=base_url,
            thresholds=work_dir / TEAM_THRESHOLDS,
            redact_pii=redact_pii,
        )
    )
    stage_seconds: dict[str, float] = {}
    started = time.perf_counter()
    results, problems, summary = run_transcription(
        inputs,
        options,
        project,
        work_dir / "transcripts",
        force,
        show_progress=not as_json,
        id_from=id_from,
        replace=replace,
    )
    stage_seconds["transcribe"] = time.perf_counter() - started
    called = sorted(r.call_id for r in results if r.output)
    score_results = []
    if called:
        started = time.perf_counter()
        score_results = run_scoring(
            project, checklists, judge, work_dir / "scorecards", force, called, show_progress=not as_json
        )
        stage_seconds["score"] = time.perf_counter() - started
    by_id = {c.id: c for c in checklists}
    plan = sheets = None
    if sample and any(r.output for r in score_results):
        plan = plan_review(project, by_id, controllers=names, size=sample)
        sheets = write_review_sheets(project, plan, by_id, work_dir / "review")
    report_path = (
        write_html_report(build_report(project, by_id), work_dir / "report.html") if report else None
    )

    if as_json:
        document = transcription_report(results, problems, summary)
        document["scores"] = [r.model_dump() for r in score_results]
        document["sample"] = plan.model_dump(mode="json") if plan else None
        document["review_sheets"] = [str(path) for path in sheets or []]
        document["report"] = str(report_path) if report_path else None
        document["stage_seconds"] = {stage: round(s, 1) for stage, s in stage_seconds.items()}
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print_transcription_summary(problems, results, summary)
        if score_results:
            print_scoring_summary(score_results)
        if plan:
            print_plan(plan)
            typer.echo(f"Review sheets: {', '.join(map(str, sheets or []))}")
        if report_path:
            typer.echo(f"Report: {report_path}")
    if problems or summary.failed or any(r.status in ("failed", "skipped") for r in score_results):
        raise typer.Exit(code=1)
