"""How a long stage lets its caller watch: the stage hands its lazy results to a `Track` and keeps going.

The library never draws progress bars or prints; the CLI passes a track that does, a notebook may pass one
that updates a widget, and a batch job passes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")


class Track(Protocol):
    def __call__(self, items: Iterable[T], total: int, label: str) -> Iterator[T]:
        """Yield `items` unchanged (`total` of them, for stage `label`) while showing what passes."""
        ...


def untracked(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """The default track: nothing shown."""
    yield from items
