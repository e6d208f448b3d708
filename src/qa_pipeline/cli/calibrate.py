"""`qa-pipeline calibrate`: AI against people, per item and on totals, and the trust map."""

from __future__ import annotations

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
    StoreOption,
    TaxonomyOption,
    ThresholdOption,
    checklists_by_id,
    voc_checklists_of,
)
from qa_pipeline.errors import ConfigError
from qa_pipeline.workspace import DEFAULT_WORKSPACE


def calibrate(
    threshold: ThresholdOption = 0.85,
    min_reviews: MinReviewsOption = 30,
    min_class_agreement: Annotated[
        float, typer.Option(help="Agreement needed on every answer people gave, e.g. on their 'no's.")
    ] = 0.5,
    drift_tolerance: Annotated[
        float, typer.Option(help="Report items whose agreement fell by this much between periods.")
    ] = 0.10,
    pool_items: PoolItemsOption = False,
    baseline_only: Annotated[
        bool, typer.Option("--baseline-only", help="Only calls picked by the random baseline (unbiased).")
    ] = False,
    period: PeriodOption = None,
    confusion: Annotated[
        bool, typer.Option("--confusion", help="Also print each item's confusion matrix (AI x controller).")
    ] = False,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the intervals.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed for the bootstrap.")] = 0,
    out: Annotated[
        Path, typer.Option(help="Report data: JSON here, per-item CSV beside it.")
    ] = DEFAULT_WORKSPACE.agreement,
    store: StoreOption = DEFAULT_STORE_TEXT,
    checklist: ChecklistOption = None,
    taxonomy: TaxonomyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Agreement per item (raw, kappa, AC1, per answer, confusion) and on totals; which items AI may score.
    Reviewed voice-of-the-customer fields are items of their VoC checklist here."""
    from qa_pipeline.cli._calibration_view import print_confusion, print_report
    from qa_pipeline.control.calibration import TrustRule
    from qa_pipeline.control.calibration_files import write_agreement
    from qa_pipeline.control.workflow import agreement_report
    from qa_pipeline.store.database import Store

    rule = TrustRule(
        threshold=threshold,
        min_reviews=min_reviews,
        min_class_agreement=min_class_agreement,
        drift_tolerance=drift_tolerance,
    )
    report = agreement_report(
        Store(store),
        checklists_by_id(checklist) | voc_checklists_of(taxonomy),
        rule=rule,
        period=period,
        pool_items=pool_items,
        baseline_only=baseline_only,
        reps=bootstrap,
        seed=seed,
    )
    if not report.items:
        raise ConfigError(f"no human reviews of scored calls in {store}: import review sheets first")
    table = write_agreement(report, out)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    print_report(report)
    if confusion:
        print_confusion(report)
    typer.echo(f"Report data: {out} and {table}")
