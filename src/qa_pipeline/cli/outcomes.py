"""`qa-pipeline import-outcomes` and `qa-pipeline validity`: customers' and employees' outcomes beside
the QA scores, and which checklist items go with what customers feel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from qa_pipeline.agreement import Interval

from qa_pipeline.cli._options import (
    DEFAULT_STORE_TEXT,
    ChecklistOption,
    JsonOption,
    StoreOption,
    checklists_by_id,
)


def import_outcomes(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="CSV files: call_id or customer_id with csat, nps, ces "
            "(and date); or team, period (YYYY-MM) and enps."
        ),
    ],
    store: StoreOption = DEFAULT_STORE_TEXT,
    as_json: JsonOption = False,
) -> None:
    """Every bad cell is reported by file, row and column; the good rows still import (exit 1 if any was
    bad)."""
    from qa_pipeline.store import Store
    from qa_pipeline.voc.outcomes import read_outcomes

    opened = Store(store)
    report = []
    for path in files:
        read = read_outcomes(path)
        counts = opened.save_outcomes(read.surveys, read.enps)
        report.append({"file": str(path), **counts.model_dump(), "problems": read.problems})
        if not as_json:
            typer.echo(
                f"{path}: {counts.inserted} new, {counts.updated} changed, {counts.unchanged} unchanged"
            )
            for problem in read.problems:
                typer.secho(f"  {problem}", fg=typer.colors.RED, err=True)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    if any(r["problems"] for r in report):
        raise typer.Exit(code=1)


def validity(
    store: StoreOption = DEFAULT_STORE_TEXT,
    checklist: ChecklistOption = None,
    repeat_days: Annotated[int, typer.Option(help="A contact again within this many days is a repeat.")] = 7,
    as_json: JsonOption = False,
) -> None:
    """Per item: CSAT, NPS and repeat contacts of calls that fail it against calls that pass it, adjusted
    for reason and queue, with Bonferroni-widened 95% intervals; team eNPS against CSAT, NPS and QA."""
    from qa_pipeline.store import Store
    from qa_pipeline.voc.validity import checklist_validity

    found = checklist_validity(Store(store), checklists_by_id(checklist), repeat_days=repeat_days)
    if as_json:
        typer.echo(json.dumps(found.model_dump(), indent=2, ensure_ascii=False))
        return
    if found.voc.groups:
        typer.echo("Voice of the customer by reason, queue and period (95% intervals)")
        for g in found.voc.groups:
            typer.echo(
                f"  {g.reason:<14} {g.queue:<10} {g.period:<8} {g.contacts:>5} contacts  resolved "
                f"{_share(g.resolved)}"
                + (f" ({g.resolved_unsure} unsure)" if g.resolved_unsure else "")
                + f"  repeat {_share(g.repeat)}  effort {_mean(g.mean_effort)}"
                f"  better {_share(g.sentiment_better)}  worse {_share(g.sentiment_worse)}"
            )
        causes = ", ".join(f"{reason} ({n})" for reason, n in found.voc.repeat_causes[:5])
        typer.echo(f"  repeat contacts are about: {causes or 'none found'}")
    effects = found.effects
    typer.echo(
        f"Item effects (fail minus pass), adjusted for {', '.join(effects.adjusted_for)}; "
        f"{effects.comparisons} comparisons, intervals widened for all of them"
    )
    for e in effects.effects:
        shown = "–" if e.difference is None else f"{e.difference:+.2f} [{e.low:+.2f}, {e.high:+.2f}]"
        typer.echo(
            f"  {e.item_id:<26} {e.outcome:<7} pass {e.n_pass:>4} fail {e.n_fail:>4}  {shown:<24} {e.verdict}"
        )
    typer.echo("EX and CX (team eNPS per period)")
    for c in found.ex_cx.correlations:
        shown = "–" if c.spearman is None else f"Spearman {c.spearman:+.2f} [{c.low:+.2f}, {c.high:+.2f}]"
        typer.echo(
            f"  eNPS vs {c.against:<9} n {c.n:>3}  {shown}" + (f"  ({c.warning})" if c.warning else "")
        )


def _share(interval: Interval) -> str:
    if interval.value is None:
        return "–"
    return f"{interval.value:.0%} [{interval.low or 0:.0%}-{interval.high or 0:.0%}]"


def _mean(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
