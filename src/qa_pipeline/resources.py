"""What the project ships beside its code: checklists and the demo corpus (prompts: judging/prompt.py).

Run from the source tree, they are its `checklists/` and `seeds/`; after `pip install` they are the
copies installed under `<prefix>/share/qa-pipeline/`, so `score` and `demo` work from any folder. A
team's own `checklists/` in the working folder comes first.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qa_pipeline.errors import ConfigError

SOURCE_ROOT = Path(__file__).resolve().parents[2]
INSTALLED_ROOT = Path(sys.prefix) / "share" / "qa-pipeline"


def shipped(name: str) -> Path:
    """The shipped `checklists` or `seeds` folder: the source tree's, else the installed copy."""
    for root in (SOURCE_ROOT, INSTALLED_ROOT):
        if (root / name).is_dir():
            return root / name
    raise ConfigError(
        f"shipped {name}/ not found in {SOURCE_ROOT} or {INSTALLED_ROOT}; reinstall qa-pipeline"
    )


def default_checklists() -> Path:
    """`checklists/` in the working folder when there is one (a team's own), else the shipped ones."""
    local = Path("checklists")
    return local if local.is_dir() else shipped("checklists")


def default_demo_corpus() -> Path:
    local = Path("seeds")
    return local if (local / "manifest.csv").is_file() else shipped("seeds")
