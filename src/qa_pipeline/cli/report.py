"""`qa-pipeline report`: the supervisor's HTML report from the project store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._options import (
    DEFAULT_STORE_TEXT,
    ChecklistOption,
    JsonOption,
    MinReviewsOption,
    PeriodOption,
    PoolItemsOption,
    RepeatDaysOption,
    StoreOption,
    ThresholdOption,
    checklists_by_id,
)
from qa_pipeline.voc.repeats import DEFAULT_REPEAT_DAYS
from qa_pipeline.workspace import DEFAULT_WORKSPACE


def report(
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = DEFAULT_WORKSPACE.report,
    store: StoreOption = DEFAULT_STORE_TEXT,
    checklist: ChecklistOption = None,
    lang: Annotated[
        str | None, typer.Option(help="Interface language, en or ru; default the checklists' language.")
    ] = None,
    period: PeriodOption = None,
    min_reviews: MinReviewsOption = 30,
    threshold: ThresholdOption = 0.85,
    pool_items: PoolItemsOption = False,
    max_calls: Annotated[
        int, typer.Option(help="Calls shown one by one (the ones needing attention first); all are counted.")
    ] = 200,
    repeat_days: RepeatDaysOption = DEFAULT_REPEAT_DAYS,
    as_json: JsonOption = False,
) -> None:
    """One self-contained HTML file: overview, agents and teams, checklist items with AI-human agreement,
    and each call's transcript and scorecard with its evidence (click a quote to hear it)."""
    from qa_pipeline.control.calibration import TrustRule
    from qa_pipeline.report import write_html_report
    from qa_pipeline.report.data import build_report
    from qa_pipeline.report.text import check_language
    from qa_pipeline.store.database import Store

    data = build_report(
        Store(store),
        checklists_by_id(checklist),
        language=check_language(lang),
        period=period,
        rule=TrustRule(min_reviews=min_reviews, threshold=threshold),
        pool_items=pool_items,
        max_calls=max_calls,
        repeat_days=repeat_days,
    )
    path = write_html_report(data, out)
    if as_json:
        typer.echo(json.dumps({"report": str(path), "calls": data.overview.calls, "shown": len(data.calls)}))
    else:
        typer.echo(f"Report: {path}")
