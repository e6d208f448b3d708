"""`qa-pipeline import-conversations`: chats, e-mails and telephony transcripts, stored to be scored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from qa_pipeline.cli._options import DEFAULT_STORE_TEXT, JsonOption, StoreOption
from qa_pipeline.cli._output import stderr


def import_conversations(
    inputs: Annotated[
        list[Path], typer.Argument(help="JSON Lines files (one conversation a line), or folders of *.jsonl.")
    ],
    store: StoreOption = DEFAULT_STORE_TEXT,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Let a conversation take a call id the store holds for other content (refused otherwise).",
        ),
    ] = False,
    redact_pii: Annotated[
        bool,
        typer.Option(
            "--redact-pii",
            help="Replace card, phone and passport numbers, e-mails and long numbers before storing.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import chats, e-mails and telephony transcripts, one JSON conversation a line (format in the
    README), as transcripts that score, sample and report read like calls. Bad lines are reported by file
    and line while the others import; the exit code is then 1."""
    from qa_pipeline import conversations
    from qa_pipeline.store.database import Store

    result = conversations.import_conversations(inputs, Store(store), replace=replace, redact_pii=redact_pii)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        for problem in result.problems:
            line = f"[red]skipped[/red] {escape(problem.source)}: {escape(problem.reason)}"
            stderr.print(line, highlight=False, soft_wrap=True)  # one line a problem, for grep
        if result.taken:
            stderr.print("--replace gives a taken call id to the new conversation.", highlight=False)
        typer.echo(
            f"{result.imported} imported, {result.unchanged} unchanged, {len(result.problems)} not imported"
        )
    if result.problems:
        raise typer.Exit(code=1)
