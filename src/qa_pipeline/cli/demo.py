"""`qa-pipeline demo`: the whole pipeline on the shipped demo corpus, from audio to the trust map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from qa_pipeline.cli._options import (
    PREFIXED_JUDGE_FLAGS,
    JsonOption,
    MinReviewsOption,
    judge_options,
    parse_languages,
)
from qa_pipeline.cli._output import stdout
from qa_pipeline.workspace import Workspace

if TYPE_CHECKING:
    from qa_pipeline.demo import DemoCall, DemoCustomer, DemoHumanControl, DemoScore
    from qa_pipeline.voc.extract import VocField


def demo(
    seeds: Annotated[
        Path | None,
        typer.Option(
            help="The demo corpus (manifest.csv, audio/, scripts/); default seeds/ or the shipped one."
        ),
    ] = None,
    work_dir: Annotated[Path, typer.Option(help="Where the demo's store and transcripts go.")] = Path(
        "demo-output"
    ),
    whisper_model: Annotated[
        str, typer.Option(help="Whisper model; the bundled multilingual base by default.")
    ] = ("bundled:base"),
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    languages: Annotated[str, typer.Option(help="Languages detection may choose from.")] = "en,ru",
    checklists_dir: Annotated[
        Path | None,
        typer.Option(
            "--checklists", help="Folder of checklists, chosen per call by language; default as for score."
        ),
    ] = None,
    judge_backend: Annotated[
        str, typer.Option(help="Judge backend: auto (llama.cpp on CPU, transformers on CUDA), llama, ...")
    ] = "auto",
    judge_model: Annotated[
        str, typer.Option(help="Judge model: auto is the bundled Qwen2.5-Coder-1.5B on CPU.")
    ] = "auto",
    score_calls: Annotated[
        bool, typer.Option("--score/--no-score", help="Score the calls with the judge.")
    ] = True,
    min_reviews: MinReviewsOption = 10,
    limit: Annotated[int, typer.Option(help="Only the first N demo calls (a quick look); 0 = all.")] = 0,
    force: Annotated[bool, typer.Option(help="Redo work even when cached.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Transcribe and score the demo calls against their scripts; then human control: a review sample,
    the seed controllers' scores, agreement and the trust map."""
    from qa_pipeline.cli._summaries import (
        print_input_problems,
        print_scoring_summary,
        print_transcription_summary,
        terminal_track,
    )
    from qa_pipeline.demo import DemoOptions, run_demo
    from qa_pipeline.transcription.transcribe import TranscribeOptions

    workspace = Workspace(work_dir)
    options = DemoOptions(
        seeds=seeds,
        checklists=checklists_dir,
        transcribe=TranscribeOptions(
            whisper_model=whisper_model, device=device, languages=parse_languages(languages)
        ),
        judge=judge_options(
            PREFIXED_JUDGE_FLAGS,
            backend=judge_backend,
            model=judge_model,
            device=device,
            thresholds=workspace.thresholds,
        )
        if score_calls
        else None,
        min_reviews=min_reviews,
        limit=limit,
        force=force,
    )
    result = run_demo(workspace, options, track=terminal_track(not as_json))
    control = result.human_control
    if as_json:
        document = result.transcription.as_json()
        document["calls"] = [c.model_dump(exclude_none=True) for c in result.calls]
        document["scores"] = [s.model_dump() for s in result.scores]
        document["agreement"] = control.agreement.model_dump(mode="json") if control else None
        document["customer"] = result.customer.model_dump(mode="json") if result.customer else None
        document["report"] = str(result.report)
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        _print_table(result.calls)
        print_input_problems(result.transcription)
        print_transcription_summary(result.transcription)
        if result.score_results:
            _print_scores(result.scores)
            print_scoring_summary(result.score_results)
        if control:
            _print_human_control(control)
        if result.customer:
            _print_customer(result.customer)
        typer.echo(
            f"Transcripts: {workspace.transcripts}/   Scorecards: {workspace.scorecards}/   "
            f"Store: {workspace.store_url}"
        )
        typer.echo(f"Report: {result.report}")
    if not result.ok:
        raise typer.Exit(code=1)


def _print_human_control(control: DemoHumanControl) -> None:
    from qa_pipeline.cli._calibration_view import print_report
    from qa_pipeline.cli._summaries import print_imports

    picks = control.plan.picks
    kinds = {kind: sum(p.kind == kind for p in picks) for kind in ("random", "risk")}
    typer.echo(
        f"Sampling plan: {kinds['random']} random (stratified by agent) + {kinds['risk']} risk-based "
        f"calls, {sum(len(p.reviewers) > 1 for p in picks)} double-scored; blind sheets in "
        f"{control.sheets[0].parent}/. Importing the seed controllers' scores:"
    )
    print_imports(control.imports)
    print_report(control.agreement)


def _print_customer(customer: DemoCustomer) -> None:
    from qa_pipeline.cli._validity_view import print_validity

    table = Table(title="Voice of the customer on the demo calls (* = a person should check)")
    for name in ("call", "reason", "resolved", "repeat", "effort", "sentiment", "churn risk"):
        table.add_column(name)
    for r in customer.records:
        table.add_row(
            r.call_id,
            _voc_cell(r.reason, "/".join(r.reason_path)),
            _voc_cell(r.resolved),
            _voc_cell(r.repeat_contact),
            _voc_cell(r.effort),
            f"{_voc_cell(r.sentiment_start)} -> {_voc_cell(r.sentiment_end)}",
            _voc_cell(r.churn_risk),
        )
    stdout.print(table)
    print_validity(customer.validity)


def _voc_cell(field: VocField, shown: str | None = None) -> str:
    return f"{field.value if shown is None else shown}{'*' if field.needs_human else ''}"


PROVISIONAL_SHORT = {  # the reasons a total waits for a person, as a narrow column reads them
    "items_need_human": "items to people",
    "uncertain_fatal": "uncertain fatal",
    "manipulation_attempt": "manipulation",
    "minority_of_points": "minority",
}


def _print_scores(rows: list[DemoScore]) -> None:
    table = Table(title="Demo calls: AI judge against the scripts' intended answers")
    for name in (
        "call",
        "AI total",
        "intended",
        "AI fatal items",
        "intended fatal",
        "items agree",
        "mean conf.",
        "bad quotes",
        "total waits for",
    ):
        table.add_column(name, justify="left" if name in ("call", "total waits for") else "right")
    for row in rows:
        table.add_row(
            row.call_id,
            _number(row.ai_total),
            _number(row.expected_total),
            str(len(row.ai_fatal)),
            str(len(row.expected_fatal)),
            f"{row.items_agreeing}/{row.items_answered}",
            _number(row.mean_confidence, ".2f"),
            str(row.unmatched_evidence),
            ", ".join(PROVISIONAL_SHORT.get(reason, reason) for reason in row.provisional) or "-",
        )
    stdout.print(table)
    agreed = sum(row.items_agreeing for row in rows)
    answered = sum(row.items_answered for row in rows)
    if answered:
        parts = []
        for source, label in (("rule", "rule items"), ("llm", "LLM items")):
            good = sum(row.by_source[source][0] for row in rows)
            total = sum(row.by_source[source][1] for row in rows)
            parts.append(f"{label} {good}/{total}" + (f" ({good / total:.0%})" if total else ""))
        left = sum(row.needs_human for row in rows)
        typer.echo(
            f"Item agreement with the scripts: {agreed}/{answered} ({agreed / answered:.0%}); "
            f"{', '.join(parts)}; {left} items left to people (garbled ASR, missing metadata); a total "
            "that waits for a person is provisional (a '-' total rests on a minority of its points)"
        )


def _number(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def _print_table(rows: list[DemoCall]) -> None:
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
            row.call_id,
            row.language,
            f"{row.duration:.0f}",
            _pct(row.wer_agent),
            _pct(row.wer_customer),
            f"{row.talk_agent:.0f}/{row.talk_customer:.0f}",
            f"{row.silence:.1f}",
            f"{row.overtalk:.1f}",
            str(row.flagged),
        )
    stdout.print(table)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
