"""`qa-pipeline demo`: the whole pipeline on the shipped demo corpus, from audio to the trust map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qa_pipeline.calibration import AgreementReport, TrustRule
from qa_pipeline.checklist import Checklist, load_checklists
from qa_pipeline.cli._options import (
    PREFIXED_JUDGE_FLAGS,
    JsonOption,
    MinReviewsOption,
    judge_options,
)
from qa_pipeline.cli._output import stdout
from qa_pipeline.cli._scoring import print_scoring_summary, run_scoring
from qa_pipeline.cli.calibrate import print_report, write_report
from qa_pipeline.cli.reviews import run_import
from qa_pipeline.cli.transcribe import (
    parse_languages,
    print_transcription_summary,
    run_transcription,
    transcription_report,
)
from qa_pipeline.demo_corpus import DialogueScript, expected_scorecard, item_agreement, load_scripts
from qa_pipeline.errors import ConfigError
from qa_pipeline.human_control import agreement_report, plan_review, write_review_sheets
from qa_pipeline.judging.options import TEAM_THRESHOLDS, make_judge
from qa_pipeline.judging.score_batch import ScoreResult
from qa_pipeline.models import Scorecard, Transcript
from qa_pipeline.report import write_html_report
from qa_pipeline.report.data import build_report
from qa_pipeline.resources import default_checklists, default_demo_corpus
from qa_pipeline.store import Store
from qa_pipeline.transcribe import TranscribeOptions
from qa_pipeline.wer import word_error_rate


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
    seeds = seeds or default_demo_corpus()
    checklists_dir = checklists_dir or default_checklists()
    manifest = seeds / "manifest.csv"
    if not manifest.is_file():
        raise ConfigError(f"{manifest}: demo corpus not found (pass --seeds)")
    scripts = load_scripts(seeds / "scripts")
    options = TranscribeOptions(
        whisper_model=whisper_model,
        device=device,
        languages=parse_languages(languages),
    )
    # Built before any work, so an option the judge cannot honour stops the demo before transcription.
    judge = (
        make_judge(
            judge_options(
                PREFIXED_JUDGE_FLAGS,
                backend=judge_backend,
                model=judge_model,
                device=device,
                thresholds=work_dir / TEAM_THRESHOLDS,
            )
        )
        if score_calls
        else None
    )
    out = work_dir / "transcripts"
    store = Store(work_dir / "qa.sqlite")
    results, problems, summary = run_transcription(
        [manifest], options, store, out, force, show_progress=not as_json, limit=limit
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
    score_rows: list[dict[str, object]] = []
    score_results: list[ScoreResult] = []
    if judge is not None:
        checklists = load_checklists([checklists_dir])
        called = {r.call_id for r in results if r.output}
        score_results = run_scoring(
            store, checklists, judge, work_dir / "scorecards", force, sorted(called), not as_json
        )
        score_rows = [_score_row(r, scripts, checklists) for r in score_results if r.output]
    if as_json:
        agreement = (
            _human_control(store, seeds, checklists_dir, work_dir, min_reviews, quiet=True)
            if score_calls
            else None
        )
        report = transcription_report(results, problems, summary)
        report["calls"] = rows
        report["scores"] = score_rows
        report["agreement"] = agreement.model_dump(mode="json") if agreement else None
        report["report"] = str(_html_report(store, checklists_dir, work_dir, min_reviews))
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_table(rows)
        print_transcription_summary(problems, results, summary)
        if score_calls:
            _print_scores(score_rows)
            print_scoring_summary(score_results)
            print_report(_human_control(store, seeds, checklists_dir, work_dir, min_reviews, quiet=False))
        typer.echo(
            f"Transcripts: {out}/   Scorecards: {work_dir / 'scorecards'}/   Store: {work_dir / 'qa.sqlite'}"
        )
        typer.echo(f"Report: {_html_report(store, checklists_dir, work_dir, min_reviews)}")
    if problems or summary.failed or any(r.status in ("failed", "skipped") for r in score_results):
        raise typer.Exit(code=1)


def _human_control(
    store: Store, seeds: Path, checklists_dir: Path, work_dir: Path, min_reviews: int, quiet: bool
) -> AgreementReport:
    """Plan a blind review sample, import the seed controllers' scores, show agreement and the trust map."""
    checklists = {c.id: c for c in load_checklists([checklists_dir])}
    plan = plan_review(
        store, checklists, controllers=["qa.elena", "qa.mikhail"], size=8, risk_picks=2, include_reviewed=True
    )
    sheets = write_review_sheets(store, plan, checklists, work_dir / "review")
    kinds = {kind: sum(p.kind == kind for p in plan.picks) for kind in ("random", "risk")}
    if not quiet:
        typer.echo(
            f"Sampling plan: {kinds['random']} random (stratified by agent) + {kinds['risk']} risk-based "
            f"calls, {sum(len(p.reviewers) > 1 for p in plan.picks)} double-scored; blind sheets in "
            f"{sheets[0].parent}/. Importing the seed controllers' scores:"
        )
    run_import(store, sorted((seeds / "human_scores").glob("*.csv")), [checklists_dir], quiet=quiet)
    # The demo's checklists share item ids across languages, so items are pooled over its 12 calls.
    report = agreement_report(store, checklists, rule=TrustRule(min_reviews=min_reviews), pool_items=True)
    write_report(report, work_dir / "agreement.json")
    return report


def _html_report(store: Store, checklists_dir: Path, work_dir: Path, min_reviews: int) -> Path:
    """The supervisor report of what the demo did, pooled over its two languages like its trust map."""
    checklists = {c.id: c for c in load_checklists([checklists_dir])}
    data = build_report(store, checklists, rule=TrustRule(min_reviews=min_reviews), pool_items=True)
    return write_html_report(data, work_dir / "report.html")


def _score_row(
    result: ScoreResult, scripts: dict[str, DialogueScript], checklists: list[Checklist]
) -> dict[str, object]:
    card = Scorecard.model_validate_json(Path(str(result.output)).read_text(encoding="utf-8"))
    checklist = next(c for c in checklists if c.id == card.checklist_id)
    truth = expected_scorecard(scripts[card.call_id], checklist)
    agreement = item_agreement(card, truth)
    confidences = [v.confidence for v in card.verdicts if v.confidence is not None]
    sources = {v.item_id: v.source for v in card.verdicts}
    return {
        "call_id": card.call_id,
        "checklist": card.checklist_id,
        "ai_total": card.total,
        "expected_total": truth.total,
        "ai_fatal": card.failed_critical,
        "expected_fatal": truth.failed_critical,
        "items_agreeing": sum(agreement.values()),
        "items_answered": len(agreement),
        "by_source": {
            source: [
                sum(ok for item, ok in agreement.items() if sources[item] == source),
                sum(sources[item] == source for item in agreement),
            ]
            for source in ("rule", "llm")
        },
        "mean_confidence": round(sum(confidences) / len(confidences), 3) if confidences else None,
        "unmatched_evidence": sum("evidence_not_found" in v.flags for v in card.verdicts),
        "needs_human": sum(v.needs_human for v in card.verdicts),
    }


def _print_scores(rows: list[dict[str, object]]) -> None:
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
    ):
        table.add_column(name, justify="left" if name == "call" else "right")
    agreed = answered = 0
    for row in rows:
        agreed += int(str(row["items_agreeing"]))
        answered += int(str(row["items_answered"]))
        table.add_row(
            str(row["call_id"]),
            _number(row["ai_total"]),
            _number(row["expected_total"]),
            str(len(row["ai_fatal"])),  # type: ignore[arg-type]
            str(len(row["expected_fatal"])),  # type: ignore[arg-type]
            f"{row['items_agreeing']}/{row['items_answered']}",
            _number(row["mean_confidence"], ".2f"),
            str(row["unmatched_evidence"]),
        )
    stdout.print(table)
    if answered:
        parts = []
        for source, label in (("rule", "rule items"), ("llm", "LLM items")):
            good = sum(row["by_source"][source][0] for row in rows)  # type: ignore[index]
            total = sum(row["by_source"][source][1] for row in rows)  # type: ignore[index]
            parts.append(f"{label} {good}/{total}" + (f" ({good / total:.0%})" if total else ""))
        left = sum(int(str(row["needs_human"])) for row in rows)
        typer.echo(
            f"Item agreement with the scripts: {agreed}/{answered} ({agreed / answered:.0%}); "
            f"{', '.join(parts)}; {left} items left to people (garbled ASR, missing metadata)"
        )


def _number(value: object, spec: str = ".0f") -> str:
    return format(value, spec) if isinstance(value, float | int) else "-"


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
