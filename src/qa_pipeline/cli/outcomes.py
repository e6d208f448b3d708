"""`qa-pipeline import-outcomes` and `qa-pipeline validity`: customers' and employees' outcomes beside
the QA scores, and which checklist items go with what customers feel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._options import (
    DEFAULT_STORE_TEXT,
    ChecklistOption,
    JsonOption,
    RepeatDaysOption,
    StoreOption,
    checklists_by_id,
)
from qa_pipeline.voc.repeats import DEFAULT_REPEAT_DAYS


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
    from qa_pipeline.store.database import Store
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
    repeat_days: RepeatDaysOption = DEFAULT_REPEAT_DAYS,
    as_json: JsonOption = False,
) -> None:
    """Per item: CSAT, NPS and repeat contacts of calls that fail it against calls that pass it, adjusted
    for reason and queue, with Bonferroni-widened 95% intervals; team eNPS against CSAT, NPS and QA."""
    from qa_pipeline.cli._validity_view import print_validity
    from qa_pipeline.store.database import Store
    from qa_pipeline.voc.validity import checklist_validity

    found = checklist_validity(Store(store), checklists_by_id(checklist), repeat_days=repeat_days)
    if as_json:
        typer.echo(json.dumps(found.model_dump(), indent=2, ensure_ascii=False))
        return
    print_validity(found)
