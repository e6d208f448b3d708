"""What the commands print about a stage: failures as they happen, then a one-line account."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

import typer
from rich.table import Table

from qa_pipeline.cli._output import minutes, stderr, stdout, with_progress
from qa_pipeline.control.workflow import ImportResult, SamplePlan
from qa_pipeline.judging.score_batch import ScoreResult
from qa_pipeline.progress import Track
from qa_pipeline.transcription.batch import CallResult, TranscriptionRun

T = TypeVar("T")


def terminal_track(show_progress: bool) -> Track:
    """A progress bar for people at a terminal, and each failed or warned call on stderr as it passes."""

    def track(items: Iterable[T], total: int, label: str) -> Iterator[T]:
        for item in with_progress(items, total, label, show_progress):
            _print_trouble(item)
            yield item

    return track


def _print_trouble(item: object) -> None:
    """One line per problem, never wrapped: a long path stays whole, to copy or grep."""
    if isinstance(item, CallResult | ScoreResult) and item.status == "claimed":
        # settled: its holder stopped renewing the claim, so this run cannot tell whether it will finish
        stderr.print(
            f"[red]left to a stalled worker[/red] {item.call_id}: {item.reason}; run again after that to "
            "take it over",
            highlight=False,
            soft_wrap=True,
        )
    elif isinstance(item, CallResult):
        if item.status == "failed":
            stderr.print(f"[red]failed[/red] {item.reason}", highlight=False, soft_wrap=True)
        elif item.reason:
            stderr.print(f"[yellow]warning[/yellow] {item.reason}", highlight=False, soft_wrap=True)
    elif isinstance(item, ScoreResult) and item.status in ("failed", "skipped"):
        stderr.print(
            f"[red]{item.status}[/red] {item.call_id}: {item.reason}", highlight=False, soft_wrap=True
        )


def print_input_problems(run: TranscriptionRun) -> None:
    for problem in run.problems:
        stderr.print(
            f"[red]skipped[/red] {problem.source}: {problem.reason}", highlight=False, soft_wrap=True
        )


def print_transcription_summary(run: TranscriptionRun) -> None:
    summary = run.summary
    speed = f", {summary.real_time_factor:.1f}x real time" if summary.real_time_factor else ""
    failed = summary.failed + len(run.problems)
    typer.echo(
        f"{len(run.results)} calls: {summary.transcribed} transcribed, {summary.cached} cached, "
        + (f"{summary.claimed} left to stalled workers, " if summary.claimed else "")
        + f"{failed} failed; "
        f"{minutes(summary.audio_seconds)} of audio in {minutes(summary.processing_seconds)}{speed}"
    )


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
        + (f"{counts['claimed']} left to stalled workers, " if counts["claimed"] else "")
        + f"{counts['failed'] + counts['skipped']} not scored; {fatal} with a fatal critical item, "
        f"{flagged} flagged for follow-up; {needs_human} items need a person"
    )


def print_plan(plan: SamplePlan) -> None:
    table = Table(title=f"Sample {plan.sample_id}: {len(plan.picks)} of {plan.population} calls")
    for name in ("call", "checklist", "kind", "controllers", "why"):
        table.add_column(name)
    for pick in plan.picks:
        table.add_row(
            pick.call_id, pick.checklist_id, pick.kind, ", ".join(pick.reviewers), "; ".join(pick.reasons)
        )
    stdout.print(table)
    typer.echo(f"Size: {plan.size_reason}.")
    if plan.stale_scorecards:
        typer.echo(
            f"Not sampled: {plan.stale_scorecards} calls scored against another version of their checklist "
            "(run qa-pipeline score to rescore them)."
        )


def print_imports(results: list[ImportResult]) -> None:
    for result in results:
        for problem in result.problems:
            stderr.print(f"[red]rejected[/red] {problem}", highlight=False, soft_wrap=True)
        counts = result.counts
        typer.echo(
            f"{result.file}: {counts.inserted} new, {counts.updated} changed, "
            f"{counts.unchanged} unchanged, {result.unanswered} not answered yet, "
            f"{len(result.problems)} rejected"
        )
