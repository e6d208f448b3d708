"""`qa-pipeline export`: every result as tables for BI tools (CSV, JSON Lines, Parquet)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

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
from qa_pipeline.workspace import DEFAULT_WORKSPACE


def export(
    fmt: Annotated[
        Literal["csv", "jsonl", "parquet"], typer.Option("--format", help="csv, jsonl or parquet.")
    ] = "csv",
    out: Annotated[Path, typer.Option(help="Folder for one file per table.")] = DEFAULT_WORKSPACE.tables,
    store: StoreOption = DEFAULT_STORE_TEXT,
    checklist: ChecklistOption = None,
    repeat_days: RepeatDaysOption = DEFAULT_REPEAT_DAYS,
    as_json: JsonOption = False,
) -> None:
    """Calls, segments, scorecards, verdicts, reviews, overrides, agreement and the voice of the customer,
    one file per table with stable columns (README); CSV cells a spreadsheet would run as formulas are
    neutralised."""
    from qa_pipeline.report.exports import export_tables
    from qa_pipeline.store.database import Store

    written = export_tables(Store(store), checklists_by_id(checklist), out, fmt, repeat_days)
    if as_json:
        report = {name: {"file": str(path), "rows": rows} for name, (path, rows) in written.items()}
        typer.echo(json.dumps(report, indent=2))
        return
    for name, (path, rows) in written.items():
        typer.echo(f"{name:10s} {rows:6d} rows  {path}")
