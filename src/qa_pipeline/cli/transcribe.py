"""`qa-pipeline transcribe`: recordings in, transcripts (JSON files and store rows) out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.batch import BatchSummary, CallResult, summarise, transcribe_batch
from qa_pipeline.cli._options import (
    IdFromOption,
    JsonOption,
    LanguageOption,
    LanguagesOption,
    ReplaceOption,
)
from qa_pipeline.cli._output import minutes, stderr, with_progress
from qa_pipeline.ingest import IdFrom, InputProblem, discover_inputs
from qa_pipeline.store import DEFAULT_STORE, Store
from qa_pipeline.transcribe import TranscribeOptions, Transcriber
from qa_pipeline.whisper_models import unknown_language


def transcribe(
    inputs: Annotated[list[Path], typer.Argument(help="Audio files, folders of audio, or a manifest CSV.")],
    out: Annotated[Path, typer.Option(help="Folder for <call_id>.json transcripts.")] = Path(
        "qa-work/transcripts"
    ),
    store: Annotated[str, typer.Option(help="SQLite file or SQLAlchemy URL of the project store.")] = str(
        DEFAULT_STORE
    ),
    whisper_model: Annotated[
        str,
        typer.Option(
            help="Size or HF id (large-v3), local CTranslate2 folder, bundled:base, bundled:tiny.en, auto."
        ),
    ] = "auto",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    compute_type: Annotated[
        str, typer.Option(help="auto (float16 on CUDA, int8 on CPU) or a CTranslate2 type.")
    ] = "auto",
    threads: Annotated[int, typer.Option(help="CPU threads; 0 uses every core.")] = 0,
    language: LanguageOption = None,
    languages: LanguagesOption = None,
    agent_channel: Annotated[int, typer.Option(help="Stereo channel that carries the agent (0 or 1).")] = 0,
    beam_size: Annotated[int, typer.Option(help="Beam search width.")] = 5,
    batch_size: Annotated[
        int,
        typer.Option(help="Chunks decoded at once; 0 = auto (by device, cores and memory), 1 = sequential."),
    ] = 0,
    vad: Annotated[bool, typer.Option(help="Skip non-speech with VAD before decoding.")] = True,
    redecode_loops: Annotated[
        bool,
        typer.Option(
            "--redecode-loops",
            help="After batched decoding, decode looped utterances again with temperature fallback.",
        ),
    ] = False,
    redact_pii: Annotated[
        bool,
        typer.Option(
            "--redact-pii",
            help="Replace card, phone and passport numbers, e-mails and long numbers before storing; "
            "their times are kept for muting the audio.",
        ),
    ] = False,
    max_minutes: Annotated[
        float, typer.Option(help="Refuse recordings longer than this (a stuck line, several calls in one).")
    ] = 90.0,
    force: Annotated[bool, typer.Option(help="Transcribe again even when a cached result exists.")] = False,
    id_from: IdFromOption = "stem",
    replace: ReplaceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Transcribe calls with faster-whisper; stereo calls get agent and customer turns."""
    check_languages([language] if language else [], "--language")
    options = TranscribeOptions(
        whisper_model=whisper_model,
        device=device,
        compute_type=compute_type,
        cpu_threads=threads,
        language=language,
        languages=parse_languages(languages),
        agent_channel=agent_channel,
        beam_size=beam_size,
        batch_size=batch_size,
        vad=vad,
        redecode_loops=redecode_loops,
        redact_pii=redact_pii,
        max_minutes=max_minutes,
    )
    results, problems, summary = run_transcription(
        inputs, options, Store(store), out, force, show_progress=not as_json, id_from=id_from, replace=replace
    )
    if as_json:
        typer.echo(json.dumps(transcription_report(results, problems, summary), indent=2, ensure_ascii=False))
    else:
        print_transcription_summary(problems, results, summary)
    if problems or summary.failed:
        raise typer.Exit(code=1)


def parse_languages(value: str | None) -> tuple[str, ...] | None:
    codes = tuple(code.strip() for code in (value or "").split(",") if code.strip())
    check_languages(codes, "--languages")
    return codes or None


def check_languages(codes: Iterable[str], option: str) -> None:
    for code in codes:
        problem = unknown_language(code)
        if problem:
            raise typer.BadParameter(problem, param_hint=option)


def run_transcription(
    inputs: list[Path],
    options: TranscribeOptions,
    store: Store,
    out: Path,
    force: bool,
    show_progress: bool,
    limit: int = 0,
    id_from: IdFrom = "stem",
    replace: bool = False,
) -> tuple[list[CallResult], list[InputProblem], BatchSummary]:
    found = discover_inputs(inputs, id_from)
    found.sources = found.sources[: limit or None]
    for problem in found.problems:
        stderr.print(f"[red]skipped[/red] {problem.source}: {problem.reason}", highlight=False)
    transcriber = Transcriber(options)
    results: list[CallResult] = []
    with store.exclusive_writer():
        batch = transcribe_batch(found.sources, transcriber, store, out, force=force, replace=replace)
        for result in with_progress(batch, len(found.sources), "transcribing", show_progress):
            if result.status == "failed":
                stderr.print(f"[red]failed[/red] {result.reason}", highlight=False)
            elif result.reason and result.status != "claimed":
                stderr.print(f"[yellow]warning[/yellow] {result.reason}", highlight=False)
            results.append(result)
    return results, found.problems, summarise(results)


def transcription_report(
    results: list[CallResult], problems: list[InputProblem], summary: BatchSummary
) -> dict[str, object]:
    return {
        "results": [r.model_dump() for r in results],
        "skipped": [{"source": p.source, "reason": p.reason} for p in problems],
        "summary": {**summary.model_dump(), "real_time_factor": summary.real_time_factor},
    }


def print_transcription_summary(
    problems: list[InputProblem], results: list[CallResult], summary: BatchSummary
) -> None:
    speed = f", {summary.real_time_factor:.1f}x real time" if summary.real_time_factor else ""
    failed = summary.failed + len(problems)
    typer.echo(
        f"{len(results)} calls: {summary.transcribed} transcribed, {summary.cached} cached, "
        + (f"{summary.claimed} left to other workers, " if summary.claimed else "")
        + f"{failed} failed; "
        f"{minutes(summary.audio_seconds)} of audio in {minutes(summary.processing_seconds)}{speed}"
    )
