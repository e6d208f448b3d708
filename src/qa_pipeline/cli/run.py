"""`qa-pipeline run`: transcribe, score and (when asked) plan a review sample in one command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.checklist import load_checklists
from qa_pipeline.cli._options import (
    PREFIXED_JUDGE_FLAGS,
    DiarizeOption,
    IdFromOption,
    JsonOption,
    LanguageOption,
    LanguagesOption,
    ReplaceOption,
    SpeakersOption,
    check_languages,
    judge_device,
    judge_options,
    parse_languages,
    parse_speakers,
)
from qa_pipeline.errors import ConfigError
from qa_pipeline.resources import default_checklists
from qa_pipeline.workspace import DEFAULT_ROOT, Workspace


def run(
    inputs: Annotated[list[Path], typer.Argument(help="Audio files, folders of audio, or a manifest CSV.")],
    checklist: Annotated[
        list[Path] | None,
        typer.Option(help="Checklist file or folder (repeatable); default checklists/ here, else shipped."),
    ] = None,
    work_dir: Annotated[
        Path, typer.Option(help="Transcripts, scorecards, review sheets and the report go here.")
    ] = DEFAULT_ROOT,
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
    speakers: SpeakersOption = "2",
    diarize: DiarizeOption = True,
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
    engine: Annotated[
        str, typer.Option(help="local (this process) or ray (a Ray Data job: this machine, or --address).")
    ] = "local",
    address: Annotated[
        str | None, typer.Option(help="With --engine ray: a running Ray cluster (ray://host:10001 or auto).")
    ] = None,
    transcribers: Annotated[int, typer.Option(help="With --engine ray: transcribing actors.")] = 1,
    judges: Annotated[int, typer.Option(help="With --engine ray: judging actors.")] = 1,
    gpus_per_worker: Annotated[
        float, typer.Option(help="With --engine ray: GPUs each transcriber and judge holds (0: CPU only).")
    ] = 0.0,
    id_from: IdFromOption = "stem",
    replace: ReplaceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Transcribe and score calls (and plan a review sample) in one go; each stage shows its progress."""
    from qa_pipeline.cli._summaries import (
        print_input_problems,
        print_plan,
        print_scoring_summary,
        print_transcription_summary,
        terminal_track,
    )
    from qa_pipeline.pipeline import PipelineOptions, run_pipeline
    from qa_pipeline.transcription.transcribe import TranscribeOptions

    names = tuple(name.strip() for name in controllers.split(",") if name.strip())
    if sample and not names:
        raise ConfigError("--sample needs --controllers (who reviews the sampled calls)")
    check_languages([language] if language else [], "--language")
    workspace = Workspace(work_dir, store)
    options = PipelineOptions(
        transcribe=TranscribeOptions(
            whisper_model=whisper_model,
            device=device,
            language=language,
            languages=parse_languages(languages),
            speakers=parse_speakers(speakers),
            diarize=diarize,
            batch_size=batch_size,
            redact_pii=redact_pii,
        ),
        judge=judge_options(
            PREFIXED_JUDGE_FLAGS,
            backend=judge_backend,
            model=judge_model,
            device=judge_device(device, judge_backend, base_url),
            base_url=base_url,
            thresholds=workspace.thresholds,
            redact_pii=redact_pii,
        ),
        sample=sample,
        controllers=names,
        report=report,
        force=force,
        id_from=id_from,
        replace=replace,
    )
    if engine not in ("local", "ray"):
        raise typer.BadParameter(f"{engine!r}: choose local or ray", param_hint="--engine")
    if engine == "ray":
        from qa_pipeline.ray_engine import RayOptions, run_pipeline_ray

        ray_options = RayOptions(
            address=address,
            transcribers=transcribers,
            judges=judges,
            gpus_per_transcriber=gpus_per_worker,
            gpus_per_judge=gpus_per_worker,
        )
        result = run_pipeline_ray(
            inputs, load_checklists(checklist or [default_checklists()]), workspace, options, ray_options
        )
    else:
        result = run_pipeline(
            inputs,
            load_checklists(checklist or [default_checklists()]),
            workspace,
            options,
            track=terminal_track(not as_json),
        )
    if as_json:
        document = result.transcription.as_json()
        document["scores"] = [r.model_dump() for r in result.scores]
        document["sample"] = result.sample.model_dump(mode="json") if result.sample else None
        document["review_sheets"] = [str(path) for path in result.review_sheets]
        document["report"] = str(result.report) if result.report else None
        document["stage_seconds"] = result.stage_seconds
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print_input_problems(result.transcription)
        print_transcription_summary(result.transcription)
        if result.scores:
            print_scoring_summary(result.scores)
        if result.sample:
            print_plan(result.sample)
            typer.echo(f"Review sheets: {', '.join(map(str, result.review_sheets))}")
        if result.report:
            typer.echo(f"Report: {result.report}")
    if not result.ok:
        raise typer.Exit(code=1)
