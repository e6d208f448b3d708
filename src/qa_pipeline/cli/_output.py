"""Shared terminal output for commands: progress on stderr, results on stdout."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

stderr = Console(stderr=True)
# Pipes and CI logs get a wide console so tables are not squeezed to 80 columns.
stdout = Console(width=None if sys.stdout.isatty() else 140)


def with_progress(items: Iterable[T], total: int, label: str, enabled: bool) -> Iterator[T]:
    """Show a progress bar with elapsed time and ETA on stderr, only for people watching a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield from items
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        for item in items:
            yield item
            progress.advance(task)


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"
