"""`qa-pipeline evaluate`: the regression gate. Rescore the calls people reviewed with a changed
checklist, prompt, thresholds or judge model, and compare agreement with people, old against new."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._options import (
    DEFAULT_STORE_TEXT,
    DEFAULT_THRESHOLDS,
    JsonOption,
    StoreOption,
    judge_options,
)
from qa_pipeline.workspace import DEFAULT_WORKSPACE


def evaluate(
    checklist: Annotated[
        list[Path],
        typer.Option(help="The changed checklist file or folder (repeatable); its id picks the calls."),
    ],
    store: StoreOption = DEFAULT_STORE_TEXT,
    backend: Annotated[
        str, typer.Option(help="Judge backend: llama, transformers, openai or auto.")
    ] = "auto",
    model: Annotated[str, typer.Option(help="Judge model (as for qa-pipeline score).")] = "auto",
    judge_mode: Annotated[
        str, typer.Option(help="items, scorecard or auto (as for qa-pipeline score).")
    ] = "auto",
    thresholds: Annotated[Path, typer.Option(help="Items judge thresholds to try.")] = DEFAULT_THRESHOLDS,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server URL.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    threads: Annotated[int, typer.Option(help="CPU threads for the llama backend; 0 = all cores.")] = 0,
    limit: Annotated[int | None, typer.Option(help="Only the first N reviewed calls (a quick look).")] = None,
    cache: Annotated[
        Path, typer.Option(help="Where rescored scorecards are kept, so a killed run resumes.")
    ] = DEFAULT_WORKSPACE.root / "evaluate" / "rescored.jsonl",
    as_json: JsonOption = False,
) -> None:
    """Exit 0 when the change is accepted, 1 when rejected or when there is no evidence either way."""
    from qa_pipeline.checklist import load_checklists
    from qa_pipeline.control.regression_gate import evaluate_change
    from qa_pipeline.judging.options import make_judge
    from qa_pipeline.store.database import Store

    options = judge_options(
        backend=backend,
        model=model,
        judge_mode=judge_mode,
        thresholds=thresholds,
        base_url=base_url,
        device=device,
        threads=threads,
    )
    track = None if as_json else (lambda call_id: typer.echo(f"  rescored {call_id}", err=True))
    report = evaluate_change(
        Store(store), load_checklists(checklist), make_judge(options), cache, limit=limit, track=track
    )
    if as_json:
        typer.echo(json.dumps(report.model_dump(), indent=2, ensure_ascii=False))
    else:
        typer.echo(
            f"{report.calls} reviewed calls ({report.rescored} rescored, {report.reused} from {cache})"
        )
        head = ("item", "calls", "old", "new", "b", "c", "p", "p Holm")
        typer.echo("{:<28} {:>5} {:>6} {:>6} {:>3} {:>3} {:>7} {:>7}  verdict".format(*head))
        for item in report.items:
            typer.echo(
                f"{item.item_id:<28} {item.calls:>5} {_pct(item.old_agreement)} {_pct(item.new_agreement)} "
                f"{item.old_only:>3} {item.new_only:>3} {item.p_value:>7.3f} {item.p_holm:>7.3f}  "
                f"{item.verdict}"
            )
        typer.echo(f"decision: {report.decision} ({report.reason})")
    if report.decision != "accept":
        raise typer.Exit(code=1)


def _pct(value: float | None) -> str:
    return f"{'–':>6}" if value is None else f"{value:>6.0%}"
