"""`qa-pipeline demo`: run the pipeline on the shipped demo corpus and show how well it heard the calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qa_pipeline.cli._output import stdout
from qa_pipeline.cli.transcribe import (
    parse_languages,
    print_transcription_summary,
    run_transcription,
    transcription_report,
)
from qa_pipeline.demo_corpus import load_scripts
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import Transcript
from qa_pipeline.store import Store
from qa_pipeline.transcribe import TranscribeOptions
from qa_pipeline.wer import word_error_rate


def demo(
    seeds: Annotated[
        Path, typer.Option(help="The demo corpus folder (manifest.csv, audio/, scripts/).")
    ] = Path("seeds"),
    work_dir: Annotated[Path, typer.Option(help="Where the demo's store and transcripts go.")] = Path(
        "demo-output"
    ),
    whisper_model: Annotated[
        str, typer.Option(help="Whisper model; the bundled multilingual base by default.")
    ] = ("bundled:base"),
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    languages: Annotated[str, typer.Option(help="Languages detection may choose from.")] = "en,ru",
    force: Annotated[bool, typer.Option(help="Redo work even when cached.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print machine-readable results to stdout.")
    ] = False,
) -> None:
    """Transcribe the demo calls and compare each transcript with the script it was made from."""
    manifest = seeds / "manifest.csv"
    if not manifest.is_file():
        raise ConfigError(f"{manifest}: demo corpus not found; run from the repository root or pass --seeds")
    scripts = load_scripts(seeds / "scripts")
    options = TranscribeOptions(
        whisper_model=whisper_model,
        device=device,
        languages=parse_languages(languages),
    )
    out = work_dir / "transcripts"
    results, problems, summary = run_transcription(
        [manifest], options, Store(work_dir / "qa.sqlite"), out, force, show_progress=not as_json
    )
    rows = []
    for result in results:
        if result.output is None:
            continue
        transcript = Transcript.model_validate_json(Path(result.output).read_text(encoding="utf-8"))
        script = scripts.get(transcript.call_id)
        rows.append(
            _demo_row(
                transcript,
                script.reference_text("agent") if script else None,
                script.reference_text("customer") if script else None,
            )
        )
    if as_json:
        report = transcription_report(results, problems, summary)
        report["calls"] = rows
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_table(rows)
        print_transcription_summary(problems, results, summary)
        typer.echo(f"Transcripts: {out}/   Store: {work_dir / 'qa.sqlite'}")
    if problems or summary.failed:
        raise typer.Exit(code=1)


def _demo_row(transcript: Transcript, agent_ref: str | None, customer_ref: str | None) -> dict[str, object]:
    row: dict[str, object] = {
        "call_id": transcript.call_id,
        "language": transcript.language,
        "duration": transcript.duration,
        "segments": len(transcript.segments),
        "flagged": sum(bool(s.flags) for s in transcript.segments),
        "talk_agent": transcript.timings.talk_time.get("agent", 0.0),
        "talk_customer": transcript.timings.talk_time.get("customer", 0.0),
        "silence": transcript.timings.silence_total,
        "overtalk": transcript.timings.overtalk_total,
    }
    if agent_ref is not None and customer_ref is not None:
        row["wer_agent"] = round(word_error_rate(agent_ref, transcript.text_by_speaker("agent")), 3)
        row["wer_customer"] = round(word_error_rate(customer_ref, transcript.text_by_speaker("customer")), 3)
    return row


def _print_table(rows: list[dict[str, object]]) -> None:
    table = Table(title="Demo calls: transcription against the scripts")
    for name in (
        "call",
        "lang",
        "dur s",
        "WER agent",
        "WER cust.",
        "talk a/c s",
        "silence s",
        "overtalk s",
        "flagged",
    ):
        table.add_column(name, justify="left" if name in ("call", "lang") else "right")
    for row in rows:
        table.add_row(
            str(row["call_id"]),
            str(row["language"]),
            f"{row['duration']:.0f}",
            _pct(row.get("wer_agent")),
            _pct(row.get("wer_customer")),
            f"{row['talk_agent']:.0f}/{row['talk_customer']:.0f}",
            f"{row['silence']:.1f}",
            f"{row['overtalk']:.1f}",
            str(row["flagged"]),
        )
    stdout.print(table)


def _pct(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, float) else "-"
