"""Options several commands share, declared once so their names and help read the same everywhere."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from qa_pipeline.checklist import Checklist, load_checklists
from qa_pipeline.errors import ConfigError
from qa_pipeline.judging.backends import resolve_backend
from qa_pipeline.judging.options import JudgeOptions
from qa_pipeline.resources import default_checklists
from qa_pipeline.transcription.ingest import IdFrom
from qa_pipeline.transcription.whisper_models import unknown_language
from qa_pipeline.workspace import DEFAULT_WORKSPACE

StoreOption = Annotated[str, typer.Option(help="SQLite file or SQLAlchemy URL of the project store.")]
DEFAULT_STORE_TEXT = str(DEFAULT_WORKSPACE.store_url)
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


def voc_checklists_of(paths: list[Path] | None) -> dict[str, Checklist]:
    """The VoC checklists of these taxonomies (default the shipped ones): their fields as review items."""
    from qa_pipeline.voc.review import voc_checklists
    from qa_pipeline.voc.taxonomy import load_taxonomy, shipped_taxonomies

    return voc_checklists([load_taxonomy(p) for p in paths] if paths else shipped_taxonomies())


TaxonomyOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--taxonomy",
        help="Contact-reason taxonomy YAML whose VoC fields people review (repeatable); default the "
        "shipped ones.",
    ),
]


JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable results to stdout.")]
RepeatDaysOption = Annotated[
    int,
    typer.Option(min=0, help="The same customer_id again within this many days is a repeat contact."),
]

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

# Transcription (transcribe, run, demo).
LanguageOption = Annotated[
    str | None, typer.Option(help="Force a language (ru, en); default detects per call.")
]
LanguagesOption = Annotated[
    str | None, typer.Option(help="Comma-separated languages detection may choose from, e.g. ru,en.")
]
SpeakersOption = Annotated[
    str,
    typer.Option(
        help="Speakers in a mono recording: a number (2) or a range (1-3); the clearest split is chosen."
    ),
]
DiarizeOption = Annotated[
    bool,
    typer.Option(
        "--diarize/--no-diarize",
        help="Tell a mono recording's speakers apart by their voices and find the agent.",
    ),
]
IdFromOption = Annotated[
    IdFrom,
    typer.Option(
        help="Name calls by file stem (0001) or by path under the folder or manifest (2026-10-01/0001)."
    ),
]
ReplaceOption = Annotated[
    bool,
    typer.Option(
        "--replace",
        help="Let a recording take a call id the store holds for a different recording (refused otherwise).",
    ),
]

# The judge (score, run, demo).
DEFAULT_THRESHOLDS = DEFAULT_WORKSPACE.thresholds  # fit-thresholds writes it, score reads it
# run and demo also take Whisper options, so their judge's backend and model flags say whose they are.
PREFIXED_JUDGE_FLAGS = {"backend": "--judge-backend", "model": "--judge-model"}


def judge_options(flags: dict[str, str] | None = None, **values: Any) -> JudgeOptions:
    """A command's judge flags as JudgeOptions; a bad value is reported under its flag (`flags` names the
    flags a command spells otherwise, e.g. model -> --judge-model)."""
    try:
        return JudgeOptions.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        option = str(error["loc"][0])
        flag = (flags or {}).get(option, "--" + option.replace("_", "-"))
        raise ConfigError(f"{flag} {error['input']!r}: {error['msg']}") from exc


def judge_device(device: str, backend: str, base_url: str | None) -> str:
    """The judge's share of a --device that Whisper uses too: a judge server decides its own device."""
    return "auto" if resolve_backend(backend, base_url) == "openai" else device


def parse_speakers(value: str) -> tuple[int, int]:
    """'2' -> (2, 2); '1-3' -> (1, 3)."""
    from qa_pipeline.transcription.transcribe import MAX_SPEAKERS

    low, _, high = value.strip().partition("-")
    try:
        fewest, most = int(low), int(high or low)
    except ValueError:
        message = f"{value!r}: give a number (2) or a range (1-3)"
        raise typer.BadParameter(message, param_hint="--speakers") from None
    if not 1 <= fewest <= most <= MAX_SPEAKERS:
        message = f"{value!r}: need 1 <= fewest <= most <= {MAX_SPEAKERS}"
        raise typer.BadParameter(message, param_hint="--speakers")
    return fewest, most


def parse_languages(value: str | None) -> tuple[str, ...] | None:
    codes = tuple(code.strip() for code in (value or "").split(",") if code.strip())
    check_languages(codes, "--languages")
    return codes or None


def check_languages(codes: Iterable[str], option: str) -> None:
    for code in codes:
        problem = unknown_language(code)
        if problem:
            raise typer.BadParameter(problem, param_hint=option)
