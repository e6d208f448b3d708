"""`qa-pipeline sample`: pick calls for human controllers and write their blind review sheets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._options import (
    DEFAULT_STORE_TEXT,
    ChecklistOption,
    JsonOption,
    PeriodOption,
    StoreOption,
    TaxonomyOption,
    checklists_by_id,
    voc_checklists_of,
)
from qa_pipeline.errors import ConfigError
from qa_pipeline.workspace import DEFAULT_WORKSPACE


def sample(
    controllers: Annotated[
        str, typer.Option(help="Comma-separated controller names or ids who will review the calls.")
    ],
    size: Annotated[int | None, typer.Option(help="Calls in the stratified random baseline.")] = None,
    precision: Annotated[
        float | None,
        typer.Option(help="Or: wanted width of the agreement interval (0.2 = ±10 points); sets the size."),
    ] = None,
    expected_agreement: Annotated[
        float, typer.Option(help="Agreement expected when sizing by --precision (0.5 is the safe maximum).")
    ] = 0.5,
    risk: Annotated[
        int | None, typer.Option(help="Risk-based calls added on top (default: a quarter of the size).")
    ] = None,
    period: PeriodOption = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same sample.")] = 0,
    stratum: Annotated[str, typer.Option(help="Stratify by agent, team, queue or language.")] = "agent",
    double_share: Annotated[
        float, typer.Option(help="Share of the baseline scored by two controllers.")
    ] = 0.2,
    pass_mark: Annotated[float, typer.Option(help="Totals near this are borderline.")] = 80.0,
    show_ai: Annotated[
        bool, typer.Option("--show-ai", help="Show the AI's answers in the sheets (not blind).")
    ] = False,
    include_reviewed: Annotated[
        bool, typer.Option("--include-reviewed", help="Also pick calls people have already reviewed.")
    ] = False,
    out: Annotated[
        Path, typer.Option(help="Folder for the review sheets and plan.json.")
    ] = DEFAULT_WORKSPACE.review,
    store: StoreOption = DEFAULT_STORE_TEXT,
    checklist: ChecklistOption = None,
    voc: Annotated[
        bool,
        typer.Option(
            "--voc", help="Sample the voice-of-the-customer fields (from qa-pipeline voc), not checklists."
        ),
    ] = False,
    taxonomy: TaxonomyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Seeded stratified random sample plus labelled risk picks; one blind XLSX and CSV per controller."""
    from qa_pipeline.cli._summaries import print_plan
    from qa_pipeline.control.workflow import plan_review, write_review_sheets
    from qa_pipeline.store.database import Store

    names = [name.strip() for name in controllers.split(",") if name.strip()]
    if not names:
        raise ConfigError("--controllers needs at least one name")
    checklists = voc_checklists_of(taxonomy) if voc else checklists_by_id(checklist)
    project = Store(store)
    plan = plan_review(
        project,
        checklists,
        controllers=names,
        size=size,
        precision=precision,
        expected_agreement=expected_agreement,
        period=period,
        include_reviewed=include_reviewed,
        risk_picks=risk,
        seed=seed,
        stratum=stratum,
        double_share=double_share,
        pass_mark=pass_mark,
        name="voc" if voc else "",
    )
    files = write_review_sheets(project, plan, checklists, out, show_ai=show_ai)
    if as_json:
        report = {"plan": plan.model_dump(mode="json"), "files": [str(path) for path in files]}
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print_plan(plan)
    typer.echo(f"Review sheets ({'with AI answers' if show_ai else 'blind'}): {', '.join(map(str, files))}")
