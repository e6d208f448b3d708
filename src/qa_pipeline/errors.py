"""Errors meant to be shown to the user.

The CLI turns any `QAPipelineError` into a clean one-line message and exit code 1; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations


class QAPipelineError(Exception):
    """A problem the user can fix: bad input, missing model, bad configuration."""


class ConfigError(QAPipelineError):
    """A configuration, manifest or option is invalid."""


class AudioError(QAPipelineError):
    """An audio file cannot be used; the message names the file and the reason."""


class ModelError(QAPipelineError):
    """A model cannot be found or loaded; the message says how to get it."""


class StoreError(QAPipelineError):
    """The project store cannot be opened or written."""


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an error's message for a one-line report; its type where the message is empty
    (`str(exc).splitlines()[0]` fails on an empty message and hides the real error)."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:limit]
