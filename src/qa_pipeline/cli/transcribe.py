"""`qa-pipeline transcribe`: recordings in, transcripts (JSON files and store rows) out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._options import (
    DEFAULT_STORE_TEXT,
    DiarizeOption,
    IdFromOption,
    JsonOption,
    LanguageOption,
    LanguagesOption,
    ReplaceOption,
    SpeakersOption,
    StoreOption,
    check_languages,
    parse_languages,
    parse_speakers,
)
from qa_pipeline.workspace import DEFAULT_WORKSPACE


def transcribe(
    inputs: Annotated[list[Path], typer.Argument(help="Audio files, folders of audio, or a manifest CSV.")],
    out: Annotated[
        Path, typer.Option(help="Folder for <call_id>.json transcripts.")
    ] = DEFAULT_WORKSPACE.transcripts,
    store: StoreOption = DEFAULT_STORE_TEXT,
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
    speakers: SpeakersOption = "2",
    diarize: DiarizeOption = True,
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
    from qa_pipeline.cli._summaries import print_input_problems, print_transcription_summary, terminal_track
    from qa_pipeline.store.database import Store
    from qa_pipeline.transcription.batch import transcribe_inputs
    from qa_pipeline.transcription.transcribe import TranscribeOptions

    check_languages([language] if language else [], "--language")
    options = TranscribeOptions(
        whisper_model=whisper_model,
        device=device,
        compute_type=compute_type,
        cpu_threads=threads,
        language=language,
        languages=parse_languages(languages),
        speakers=parse_speakers(speakers),
        diarize=diarize,
        agent_channel=agent_channel,
        beam_size=beam_size,
        batch_size=batch_size,
        vad=vad,
        redecode_loops=redecode_loops,
        redact_pii=redact_pii,
        max_minutes=max_minutes,
    )
    run = transcribe_inputs(
        inputs,
        options,
        Store(store),
        out,
        force=force,
        id_from=id_from,
        replace=replace,
        track=terminal_track(not as_json),
    )
    if as_json:
        typer.echo(json.dumps(run.as_json(), indent=2, ensure_ascii=False))
    else:
        print_input_problems(run)
        print_transcription_summary(run)
    if not run.ok:
        raise typer.Exit(code=1)
