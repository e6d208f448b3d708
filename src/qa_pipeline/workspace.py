"""The work folder: one object that owns where every stage reads and writes.

Commands, the Python API and cluster jobs all take a `Workspace`, so `qa-work/scorecards` is spelled in one
place and a team that moves its work folder (or keeps its store in PostgreSQL) moves everything at once.
Nothing heavy is imported here: the CLI builds a workspace before it knows whether a model will run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa_pipeline.store.database import Store

DEFAULT_ROOT = Path("qa-work")
STORE_FILE = "qa.sqlite"
THRESHOLDS_FILE = "judge-thresholds.yaml"  # a team's fitted judge thresholds


@dataclass(frozen=True)
class Workspace:
    """A work folder and, optionally, a store elsewhere.

    Attributes:
        root: the folder for transcripts, scorecards, review sheets, the report and fitted thresholds.
        store_location: an SQLite file or SQLAlchemy URL; default `root/qa.sqlite`.
    """

    root: Path = DEFAULT_ROOT
    store_location: str | Path | None = None

    @property
    def store_url(self) -> str | Path:
        return self.store_location or self.root / STORE_FILE

    @property
    def transcripts(self) -> Path:
        return self.root / "transcripts"

    @property
    def scorecards(self) -> Path:
        return self.root / "scorecards"

    @property
    def review(self) -> Path:
        """Blind review sheets, one per controller."""
        return self.root / "review"

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    @property
    def thresholds(self) -> Path:
        """Judge thresholds fitted on this team's reviews; used over the shipped ones when present."""
        return self.root / THRESHOLDS_FILE

    @property
    def agreement(self) -> Path:
        """The calibration's JSON (a per-item CSV is written beside it)."""
        return self.root / "agreement.json"

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    @property
    def scores_export(self) -> Path:
        return self.root / "export"

    def open_store(self) -> Store:
        from qa_pipeline.store.database import Store

        return Store(self.store_url)


DEFAULT_WORKSPACE = Workspace()
