"""`qa-pipeline score`: score stored transcripts against QA checklists with an LLM judge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.checklist import load_checklists
from qa_pipeline.cli._options import (
    DEFAULT_STORE_TEXT,
    DEFAULT_THRESHOLDS,
    JsonOption,
    StoreOption,
    judge_options,
)
from qa_pipeline.judging.options import make_judge
from qa_pipeline.resources import default_checklists
from qa_pipeline.workspace import DEFAULT_WORKSPACE


def score(
    checklist: Annotated[
        list[Path] | None, typer.Option(help="Checklist file or folder (repeatable); default checklists/.")
    ] = None,
    store: StoreOption = DEFAULT_STORE_TEXT,
    out: Annotated[
        Path, typer.Option(help="Folder for <call_id>.json scorecards.")
    ] = DEFAULT_WORKSPACE.scorecards,
    backend: Annotated[
        str,
        typer.Option(
            help="Judge backend: llama (llama.cpp, GGUF on CPU), transformers, openai, or auto "
            "(openai with --base-url, else transformers on CUDA, else llama)."
        ),
    ] = "auto",
    model: Annotated[
        str,
        typer.Option(
            help="Model id, local folder, GGUF file, bundled:qwen2.5-1.5b, bundled:smollm2, or auto "
            "(Qwen2.5-7B-Instruct on CUDA, bundled:qwen2.5-1.5b on CPU); served name for openai."
        ),
    ] = "auto",
    judge_mode: Annotated[
        str,
        typer.Option(
            help="items: one question per item on a cached transcript, answered from token "
            "probabilities; scorecard: one JSON reply for all items; auto: the checklist's judge_mode, "
            "else items where the backend can (llama), else scorecard."
        ),
    ] = "auto",
    evidence: Annotated[
        bool,
        typer.Option(
            "--evidence/--no-evidence",
            help="items mode: ask which transcript line supports each answer (one more short step).",
        ),
    ] = True,
    redact_pii: Annotated[
        bool,
        typer.Option(
            "--redact-pii",
            help="Replace card, phone and passport numbers, e-mails and long numbers in what the judge "
            "sees and in the scorecards (use with a remote --base-url).",
        ),
    ] = False,
    threads: Annotated[int, typer.Option(help="CPU threads for the llama backend; 0 = all cores.")] = 0,
    thresholds: Annotated[
        Path,
        typer.Option(
            help="Items judge thresholds fitted on your reviews (qa-pipeline fit-thresholds); used when "
            "the file exists, over the shipped ones."
        ),
    ] = DEFAULT_THRESHOLDS,
    device: Annotated[
        str,
        typer.Option(
            help="auto, cpu or cuda; transformers needs CUDA torch, llama a llama.cpp built with GPU "
            "offload; openai refuses it (the server decides)."
        ),
    ] = "auto",
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server URL, e.g. http://localhost:8000/v1.")
    ] = None,
    api_key_env: Annotated[
        str, typer.Option(help="Environment variable holding the server's API key.")
    ] = "OPENAI_API_KEY",
    max_new_tokens: Annotated[
        int,
        typer.Option(help="Cap on a reply in tokens; the schema bounds replies, non-Latin text needs more."),
    ] = 4000,
    retries: Annotated[
        int, typer.Option(help="Retries for an invalid reply before items need a person.")
    ] = 2,
    batch_size: Annotated[
        int,
        typer.Option(
            help="Calls per judge batch (transformers: one padded batch; openai: concurrent requests); "
            "0 = auto: 8 on CUDA or a server, 1 on CPU."
        ),
    ] = 0,
    call: Annotated[list[str] | None, typer.Option(help="Only these call ids (repeatable).")] = None,
    force: Annotated[bool, typer.Option(help="Score again even when a cached scorecard exists.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Score every transcribed call; evidence is checked in the transcript, confidence comes from tokens."""
    from qa_pipeline.cli._summaries import print_scoring_summary, terminal_track
    from qa_pipeline.judging.score_batch import score_store, scoring_ok
    from qa_pipeline.store.database import Store

    checklists = load_checklists(checklist or [default_checklists()])
    options = judge_options(
        backend=backend,
        model=model,
        device=device,
        base_url=base_url,
        api_key_env=api_key_env,
        max_new_tokens=max_new_tokens,
        threads=threads,
        retries=retries,
        judge_mode=judge_mode,
        evidence=evidence,
        thresholds=thresholds,
        redact_pii=redact_pii,
    )
    judge = make_judge(options)
    results = score_store(
        Store(store),
        checklists,
        judge,
        out,
        calls=call,
        force=force,
        batch_size=batch_size,
        track=terminal_track(not as_json),
    )
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in results], indent=2, ensure_ascii=False))
    else:
        print_scoring_summary(results)
    if not scoring_ok(results):
        raise typer.Exit(code=1)
