"""`qa-pipeline fit-thresholds`: learn the items judge's per-item decision thresholds from reviewed calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._options import DEFAULT_STORE_TEXT, DEFAULT_THRESHOLDS, JsonOption, StoreOption
from qa_pipeline.errors import ConfigError


def fit_thresholds(
    store: StoreOption = DEFAULT_STORE_TEXT,
    out: Annotated[
        Path,
        typer.Option(help="Thresholds file; `score` reads it from here by default, `run` from its WORK_DIR."),
    ] = DEFAULT_THRESHOLDS,
    min_calls: Annotated[
        int, typer.Option(help="Reviewed calls a question needs before its threshold is fitted.")
    ] = 10,
    as_json: JsonOption = False,
) -> None:
    """Fit, per checklist item, the p(yes) at which the items judge answers yes, on the calls controllers
    reviewed; re-score afterwards (`score --force`) for the new thresholds to take effect."""
    from qa_pipeline.judging.thresholds import fit_from_reviews, write_thresholds
    from qa_pipeline.store.database import Store

    opened = Store(store)
    fitted = fit_from_reviews(opened.scorecards(), opened.human_reviews(), min_calls)
    if not fitted:
        raise ConfigError(
            f"no reviewed calls scored in items mode in {opened.url}: import controllers' scores first"
        )
    report = {}
    for model, (items, calls) in fitted.items():
        write_thresholds(out, model, f"reviews in {opened.url}, {calls} calls", items)
        report[model] = {key: value.model_dump() for key, value in items.items()}
        if not as_json:
            typer.echo(f"{model}: {len(items)} thresholds fitted on {calls} reviewed calls -> {out}")
            for key, value in items.items():
                typer.echo(
                    f"  {key:32s} yes from p >= {value.threshold:.2f}  "
                    f"({value.agreement:.0%} agreement on {value.calls} calls)"
                )
    if as_json:
        typer.echo(json.dumps(report, indent=2))
