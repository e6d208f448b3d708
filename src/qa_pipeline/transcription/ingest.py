"""Turn what the user points at (files, folders, a manifest CSV) into calls ready for transcription.

Problems are collected per input instead of raised, so one bad recording never stops a batch: the caller
reports them with the file name and reason and carries on with the rest.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from qa_pipeline.errors import AudioError, ConfigError, first_line
from qa_pipeline.models import AudioInfo, Call, CallMetadata
from qa_pipeline.transcription.whisper_models import unknown_language

# Shorter files are clicks or failed recordings, not calls: no item could be judged on them.
MIN_CALL_SECONDS = 1.0
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".webm"})
MANIFEST_REQUIRED = ("call_id", "path")
MANIFEST_OPTIONAL = tuple(CallMetadata.model_fields)
MAX_ID_LENGTH = 128
# Parts joined by '/' (ids from paths): each part is a safe file name that cannot climb out of a folder, so
# transcripts/<call_id>.json lands in a subfolder of the output and nowhere else.
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
IdFrom = Literal["stem", "path"]
"""How calls found in a folder or manifest are named: by file stem (`0001`), or by the path relative to
the folder or manifest without its extension (`2026-10-01/0001`), for recordings named alike per day."""


@dataclass(frozen=True)
class CallSource:
    """A call before its audio has been looked at."""

    call_id: str
    path: Path
    metadata: CallMetadata = field(default_factory=CallMetadata)


@dataclass(frozen=True)
class InputProblem:
    """An input that cannot become a call, and why."""

    source: str
    reason: str


@dataclass
class DiscoveredInputs:
    sources: list[CallSource] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)


def discover_inputs(inputs: Iterable[Path], id_from: IdFrom = "stem") -> DiscoveredInputs:
    """Expand files, folders and manifests into call sources with unique, file-name-safe ids.

    A single file is always named by its stem: it has no folder its path could be relative to."""
    found = DiscoveredInputs()
    sources: list[CallSource] = []
    for raw in inputs:
        path = Path(raw)
        if path.suffix.lower() == ".csv" and path.is_file():
            try:
                listed, problems = read_manifest(path, id_from)
            except ConfigError as exc:
                found.problems.append(InputProblem(str(path), str(exc)))
                continue
            found.problems.extend(problems)
        elif path.is_dir():
            listed = [CallSource(derive_call_id(p, path, id_from), p) for p in _audio_files_under(path)]
            if not listed:
                found.problems.append(InputProblem(str(path), "folder holds no audio files"))
        elif path.exists():
            listed = [CallSource(derive_call_id(path, path.parent, "stem"), path)]
        else:
            found.problems.append(InputProblem(str(path), "no such file or folder"))
            continue
        for source in listed:
            problem = call_id_problem(source.call_id)
            if problem:
                found.problems.append(InputProblem(str(source.path), problem))
            else:
                sources.append(source)
    found.sources = _unique_ids(sources, found.problems)
    return found


def derive_call_id(path: Path, root: Path, id_from: IdFrom) -> str:
    """A call id from a file's stem or its path under `root`, each part cleaned to a safe file name."""
    parts = path.relative_to(root).with_suffix("").parts if id_from == "path" else (path.stem,)
    cleaned = [re.sub(r"[^A-Za-z0-9._-]+", "_", part).strip("._-")[:100] for part in parts]
    return "/".join(part for part in cleaned if part) or "call"


def read_manifest(manifest: Path, id_from: IdFrom = "stem") -> tuple[list[CallSource], list[InputProblem]]:
    """Read `call_id,path[,agent,team,queue,date,language]`; rows are checked one by one.

    Paths are relative to the manifest's folder and must stay inside it, so a shared manifest cannot
    make the pipeline read arbitrary files on the machine. With ids from paths the `call_id` column may
    be left out or empty; an id a row gives is the user's own and is kept.
    """
    root = manifest.parent.resolve()
    required = MANIFEST_REQUIRED if id_from == "stem" else ("path",)
    try:
        with manifest.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in (reader.fieldnames or [])]
            missing = [col for col in required if col not in header]
            if missing:
                raise ConfigError(f"{manifest}: manifest lacks required column(s) {', '.join(missing)}")
            unknown = [col for col in header if col not in MANIFEST_REQUIRED + MANIFEST_OPTIONAL]
            if unknown:
                raise ConfigError(
                    f"{manifest}: unknown column(s) {', '.join(unknown)}; "
                    f"allowed: {', '.join(MANIFEST_REQUIRED + MANIFEST_OPTIONAL)}"
                )
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{manifest}: cannot read manifest: {exc}") from exc

    sources: list[CallSource] = []
    problems: list[InputProblem] = []
    for line_no, row in enumerate(rows, start=2):
        where = f"{manifest}:{line_no}"
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        call_id, rel_path = values.get("call_id", ""), values.get("path", "")
        if not rel_path:
            problems.append(InputProblem(where, "path is empty"))
            continue
        audio_path = (root / rel_path).resolve()
        if not audio_path.is_relative_to(root):
            problems.append(InputProblem(where, f"path {rel_path!r} leaves the manifest's folder {root}"))
            continue
        if id_from == "path" and not call_id:
            call_id = derive_call_id(audio_path, root, id_from)
        problem = call_id_problem(call_id)
        if problem:
            problems.append(InputProblem(where, problem))
            continue
        meta = {k: values[k] for k in MANIFEST_OPTIONAL if values.get(k)}
        problem = unknown_language(meta["language"]) if "language" in meta else None
        if problem:
            problems.append(InputProblem(where, problem))
            continue
        try:
            metadata = CallMetadata(**meta)
        except ValidationError as exc:
            problems.append(InputProblem(where, str(exc)))
            continue
        sources.append(CallSource(call_id, audio_path, metadata))
    return sources, problems


def probe_call(source: CallSource) -> Call:
    """Check that the file is readable audio with some content; raise `AudioError` naming it otherwise."""
    return Call(
        call_id=source.call_id,
        audio_path=str(source.path),
        audio=probe_audio(source.path),
        metadata=source.metadata,
    )


def probe_audio(path: Path) -> AudioInfo:
    import av  # PyAV ships with faster-whisper; imported here to keep CLI start-up fast

    if not path.exists():
        raise AudioError(f"{path}: file not found")
    try:
        if path.stat().st_size == 0:
            raise AudioError(f"{path}: file is empty (0 bytes)")
        digest = _sha256(path)
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: no audio stream (not an audio file?)")
            stream = container.streams.audio[0]
            duration = _stream_duration(container, stream)
            info = AudioInfo(
                duration=duration,
                sample_rate=int(stream.rate or stream.codec_context.sample_rate or 0),
                channels=int(stream.channels or stream.codec_context.channels or 0),
                codec=str(stream.codec_context.name),
                sha256=digest,
            )
    except AudioError:
        raise
    except PermissionError as exc:
        raise AudioError(f"{path}: cannot read file (permission denied)") from exc
    except (OSError, av.error.FFmpegError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({first_line(exc)})") from exc
    if info.duration <= 0 or info.channels == 0:
        raise AudioError(f"{path}: recording has no audio samples (zero length)")
    if info.duration < MIN_CALL_SECONDS:
        raise AudioError(
            f"{path}: recording is {info.duration:.1f} s long; a call needs at least {MIN_CALL_SECONDS:.0f} s"
        )
    return info


def _stream_duration(container: Any, stream: Any) -> float:
    """Container metadata first; decode and count samples when the header does not say (or lies)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return float(container.duration) / 1_000_000
    samples = 0
    for frame in container.decode(stream):
        samples += frame.samples
    rate = stream.rate or 1
    return samples / rate


def _audio_files_under(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in AUDIO_EXTENSIONS and not path.name.startswith("."):
            yield path


def call_id_problem(call_id: str) -> str | None:
    """Why a call id cannot name a call (ids become file and folder names), or None when it can."""
    if len(call_id) <= MAX_ID_LENGTH and _SAFE_ID.match(call_id):
        return None
    return (
        f"call_id {call_id!r} must be 1-{MAX_ID_LENGTH} of A-Z a-z 0-9 . _ - (and / between parts), "
        "each part starting with a letter or digit"
    )


def _unique_ids(sources: list[CallSource], problems: list[InputProblem]) -> list[CallSource]:
    """One id, one recording: inputs that share an id (the same file name in two folders) are all left
    out, since keeping either would attach the other's reviews and history to it. A file listed twice is
    transcribed once."""
    paths: dict[str, dict[Path, Path]] = {}
    for source in sources:
        paths.setdefault(source.call_id, {}).setdefault(source.path.resolve(), source.path)
    kept: list[CallSource] = []
    seen: set[tuple[str, Path]] = set()  # one recording under several ids (duplicate exports) is fine
    for source in sources:
        resolved = source.path.resolve()
        others = [str(p) for r, p in paths[source.call_id].items() if r != resolved]
        if others:
            problems.append(
                InputProblem(
                    str(source.path),
                    f"call_id {source.call_id!r} is also the id of {', '.join(others)}; none of them is "
                    "transcribed: give them ids of their own (from their paths, or in a manifest)",
                )
            )
        elif (source.call_id, resolved) in seen:
            problems.append(InputProblem(str(source.path), "listed twice; transcribed once"))
        else:
            seen.add((source.call_id, resolved))
            kept.append(source)
    return kept


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
