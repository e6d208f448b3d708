"""`qa-pipeline import-scores`, `override`, `export-scores`: people's decisions, into and out of the store."""

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
from qa_pipeline.workspace import DEFAULT_WORKSPACE


def import_scores(
    files: Annotated[list[Path], typer.Argument(help="Filled-in review sheets (.xlsx or .csv).")],
    store: StoreOption = DEFAULT_STORE_TEXT,
    checklist: ChecklistOption = None,
    taxonomy: TaxonomyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check every cell; bad rows are reported by sheet, row and column and good rows still import.
    Sheets of the voice-of-the-customer sample import the same way."""
    from qa_pipeline.cli._summaries import print_imports
    from qa_pipeline.control.workflow import import_review_sheets
    from qa_pipeline.store.database import Store

    checklists = checklists_by_id(checklist) | voc_checklists_of(taxonomy)
    results = import_review_sheets(Store(store), files, checklists)
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in results], indent=2, ensure_ascii=False))
    else:
        print_imports(results)
    if any(r.problems for r in results):
        raise typer.Exit(code=1)


def override(
    call_id: Annotated[str, typer.Argument(help="The call.")],
    item_id: Annotated[str, typer.Argument(help="The checklist item.")],
    answer: Annotated[str, typer.Argument(help="The corrected answer: yes, no, na or a scale value.")],
    comment: Annotated[str, typer.Option(help="Why the AI was wrong (required).")],
    by: Annotated[str, typer.Option(help="Supervisor's name or id (required).")],
    checklist_id: Annotated[
        str | None, typer.Option(help="Which scorecard, when the call was scored against several.")
    ] = None,
    store: StoreOption = DEFAULT_STORE_TEXT,
    checklist: ChecklistOption = None,
    taxonomy: TaxonomyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Correct an AI verdict (or a VoC field); the AI's answer is kept beside the override and overrides
    are counted."""
    from qa_pipeline.control.workflow import record_override
    from qa_pipeline.store.database import Store

    before, after = record_override(
        Store(store),
        checklists_by_id(checklist) | voc_checklists_of(taxonomy),
        call_id=call_id,
        item_id=item_id,
        answer=answer,
        supervisor=by,
        comment=comment,
        checklist_id=checklist_id,
    )
    if as_json:
        report = {"call_id": call_id, "item_id": item_id, "answer": answer}
        typer.echo(json.dumps(report | {"total_before": before.total, "total_after": after.total}, indent=2))
        return
    typer.echo(
        f"{call_id} {item_id}: overridden to {answer}; total {_total(before.total)} -> {_total(after.total)}"
    )


def _total(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def export_scores(
    out: Annotated[
        Path, typer.Option(help="Folder for the scorecards people stand behind.")
    ] = DEFAULT_WORKSPACE.scores_export,
    hold_back: Annotated[
        bool,
        typer.Option(
            "--hold-back/--no-hold-back", help="Hold back AI scores until a person has reviewed the call."
        ),
    ] = False,
    period: PeriodOption = None,
    store: StoreOption = DEFAULT_STORE_TEXT,
    checklist: ChecklistOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write scorecards with overrides applied, e.g. for agents' feedback or a BI tool."""
    from qa_pipeline.control.workflow import export_scorecards
    from qa_pipeline.store.database import Store

    result = export_scorecards(
        Store(store), checklists_by_id(checklist), out, hold_back=hold_back, period=period
    )
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    typer.echo(
        f"{len(result.written)} scorecards written to {out}/; "
        f"{len(result.held_back)} held back (not reviewed by a person)"
    )
