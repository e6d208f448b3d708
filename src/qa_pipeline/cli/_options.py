"""Options several commands share, declared once so their names and help read the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.checklist import Checklist, load_checklists
from qa_pipeline.resources import default_checklists
from qa_pipeline.store import DEFAULT_STORE

StoreOption = Annotated[str, typer.Option(help="SQLite file or SQLAlchemy URL of the project store.")]
DEFAULT_STORE_TEXT = str(DEFAULT_STORE)
ChecklistOption = Annotated[
    list[Path] | None,
    typer.Option(
        help="Checklist file or folder (repeatable); default checklists/ here, else the shipped ones."
    ),
]
PeriodOption = Annotated[
    str | None, typer.Option(help="Only calls whose date starts with this: 2026, 2026-10 or 2026-10-05.")
]


def checklists_by_id(paths: list[Path] | None) -> dict[str, Checklist]:
    return {c.id: c for c in load_checklists(paths or [default_checklists()])}


JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable results to stdout.")]

# The trust map's rule (calibrate, report, demo).
ThresholdOption = Annotated[
    float, typer.Option(help="Lower CI bound of AI-human agreement an item needs to be trusted.")
]
MinReviewsOption = Annotated[
    int, typer.Option(help="Reviewed calls an item needs before the AI may score it alone.")
]
PoolItemsOption = Annotated[
    bool, typer.Option("--pool-items", help="Pool items with the same id across checklists.")
]

# Transcription (transcribe, run).
LanguageOption = Annotated[
    str | None, typer.Option(help="Force a language (ru, en); default detects per call.")
]
LanguagesOption = Annotated[
    str | None, typer.Option(help="Comma-separated languages detection may choose from, e.g. ru,en.")
]
