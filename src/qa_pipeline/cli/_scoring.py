"""Scoring as `score`, `run` and `demo` show it: progress on stderr, each failure as it happens, a summary."""

from __future__ import annotations

from pathlib import Path

import typer

from qa_pipeline.checklist import Checklist
from qa_pipeline.cli._output import stderr, with_progress
from qa_pipeline.judging.judge import Judge
from qa_pipeline.judging.score_batch import ScoreResult, score_stored, stored_transcripts
from qa_pipeline.store import Store


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
    transcripts = stored_transcripts(store, calls)
    results = []
    scoring = score_stored(transcripts, checklists, judge, store, out, force=force, batch_size=batch_size)
    for result in with_progress(scoring, len(transcripts), "scoring", show_progress):
        if result.status in ("failed", "skipped"):
            stderr.print(f"[red]{result.status}[/red] {result.call_id}: {result.reason}", highlight=False)
        results.append(result)
    return results


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
