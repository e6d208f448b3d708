"""`qa-pipeline score`: score stored transcripts against QA checklists with an LLM judge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.checklist import Checklist, load_checklists
from qa_pipeline.cli._options import JsonOption
from qa_pipeline.cli._output import stderr, with_progress
from qa_pipeline.cli.thresholds import DEFAULT_THRESHOLDS
from qa_pipeline.errors import ConfigError
from qa_pipeline.judging.backends import make_backend
from qa_pipeline.judging.judge import Judge, JudgeMode, shipped_thresholds
from qa_pipeline.judging.score_batch import ScoreResult, score_batch
from qa_pipeline.judging.thresholds import thresholds_for
from qa_pipeline.resources import default_checklists
from qa_pipeline.store import DEFAULT_STORE, Store


def score(
    checklist: Annotated[
        list[Path] | None, typer.Option(help="Checklist file or folder (repeatable); default checklists/.")
    ] = None,
    store: Annotated[str, typer.Option(help="SQLite file or SQLAlchemy URL of the project store.")] = str(
        DEFAULT_STORE
    ),
    out: Annotated[Path, typer.Option(help="Folder for <call_id>.json scorecards.")] = Path(
        "qa-work/scorecards"
    ),
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
    device: Annotated[str, typer.Option(help="auto, cpu or cuda (transformers backend).")] = "auto",
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
    checklists = load_checklists(checklist or [default_checklists()])
    judge = make_judge(
        backend,
        model,
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
    results = run_scoring(
        Store(store), checklists, judge, out, force, call, show_progress=not as_json, batch_size=batch_size
    )
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in results], indent=2, ensure_ascii=False))
    else:
        print_scoring_summary(results)
    if any(r.status in ("failed", "skipped") for r in results):
        raise typer.Exit(code=1)


def make_judge(
    backend: str,
    model: str,
    *,
    device: str = "auto",
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    max_new_tokens: int = 4000,
    threads: int = 0,
    retries: int = 2,
    judge_mode: str = "auto",
    evidence: bool = True,
    thresholds: Path = DEFAULT_THRESHOLDS,
    redact_pii: bool = False,
) -> Judge:
    """The judge as `score` and `run` configure it: a team's fitted thresholds over the shipped ones."""
    judge_backend = make_backend(
        backend,
        model=model,
        device=device,
        base_url=base_url,
        api_key_env=api_key_env,
        max_new_tokens=max_new_tokens,
        threads=threads,
    )
    return Judge(
        judge_backend,
        retries=retries,
        mode=parse_judge_mode(judge_mode),
        evidence=evidence,
        thresholds=thresholds_for(judge_backend.model_id, [*shipped_thresholds(), thresholds]),
        redact_pii=redact_pii,
    )


def parse_judge_mode(value: str) -> JudgeMode:
    if value not in ("auto", "items", "scorecard"):
        raise ConfigError(f"--judge-mode {value!r}: use auto, items or scorecard")
    return value  # type: ignore[return-value]


def run_scoring(
    store: Store,
    checklists: list[Checklist],
    judge: Judge,
    out: Path,
    force: bool,
    calls: list[str] | None,
    show_progress: bool,
    batch_size: int = 0,
) -> list[ScoreResult]:
    transcripts = [t for t in store.transcripts() if not calls or t.call_id in calls]
    if not transcripts:
        raise ConfigError(f"no transcripts in {store.url}: run qa-pipeline transcribe first")
    results = []
    with store.exclusive_writer():
        batch = score_batch(
            transcripts,
            checklists,
            judge,
            store,
            out,
            force=force,
            batch_size=batch_size or auto_batch_size(judge),
        )
        for result in with_progress(batch, len(transcripts), "scoring", show_progress):
            if result.status in ("failed", "skipped"):
                stderr.print(f"[red]{result.status}[/red] {result.call_id}: {result.reason}", highlight=False)
            results.append(result)
    return results


def auto_batch_size(judge: Judge) -> int:
    """Batching pays where a GPU or a server does the work; on 2 CPU cores it gained nothing clear
    (benchmarks/score.py: 85 calls/hour at 4 vs 62-90 at 1) and costs memory."""
    device = getattr(judge.backend, "device", None)
    return 1 if device == "cpu" else 8


def print_scoring_summary(results: list[ScoreResult]) -> None:
    counts = {
        status: sum(r.status == status for r in results)
        for status in ("scored", "cached", "claimed", "failed", "skipped")
    }
    fatal = sum(bool(r.failed_critical) for r in results)
    flagged = sum(bool(r.flagged_critical) for r in results)
    needs_human = sum(r.needs_human for r in results)
    typer.echo(
        f"{len(results)} calls: {counts['scored']} scored, {counts['cached']} cached, "
        + (f"{counts['claimed']} left to other workers, " if counts["claimed"] else "")
        + f"{counts['failed'] + counts['skipped']} not scored; {fatal} with a fatal critical item, "
        f"{flagged} flagged for follow-up; {needs_human} items need a person"
    )
