"""Conversations that are not audio: chats, e-mail threads, transcripts a telephony system already made.

Each line of a JSON Lines file is one conversation. It becomes a `Transcript` (`channel_layout: text`)
stored like a transcribed call, so scoring, sampling, the report and the exports read it like any other.
Lines are checked one by one, as manifest rows are: a bad line is reported with its file and line number
and the others import. Turns may carry times (a telephony transcript) or not (chats, e-mails); times are
never made up, so a conversation without them says `timed: False` and its timing rules and time windows
do not apply.

A call id is one conversation, as it is one recording: content stored under an id (SHA-256 of the
canonical conversation) is not replaced by other content unless asked, and importing the same file again
changes nothing.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qa_pipeline.models import AudioInfo, Call, CallMetadata, CallTimings, Channel, Segment, Transcript
from qa_pipeline.redaction import redact_transcript
from qa_pipeline.store.database import CallIdTaken, Store, transcript_cache_key
from qa_pipeline.transcription.ingest import InputProblem, call_id_problem
from qa_pipeline.transcription.timings import call_timings
from qa_pipeline.transcription.whisper_models import unknown_language

logger = logging.getLogger(__name__)

IMPORT_MODEL = "import"  # the transcript's `model`: its words came in as text, no model heard them
_CHUNK = 200  # conversations whose stored transcripts are read in one query
_SHOWN_ERRORS = 3


class Turn(BaseModel):
    """One message or utterance; `start` and `end` are seconds from the conversation's start."""

    model_config = ConfigDict(extra="forbid", strict=True)

    speaker: Literal["agent", "customer"]
    text: str
    start: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    end: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _checked(self) -> Turn:
        if not self.text.strip():
            raise ValueError("text is empty")
        if (self.start is None) != (self.end is None):
            raise ValueError("give start and end together, or neither")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end:g} is before start {self.start:g}")
        return self


class Conversation(BaseModel):
    """One line of an import file. Strict types: a time written as text is an error, not a guess."""

    model_config = ConfigDict(extra="forbid", strict=True)

    call_id: str
    channel: Channel
    language: str
    metadata: CallMetadata = Field(default_factory=CallMetadata)
    turns: list[Turn] = Field(min_length=1)

    @field_validator("call_id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        problem = call_id_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        problem = unknown_language(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Conversation:
        if self.metadata.language not in (None, self.language):
            raise ValueError(f"metadata.language {self.metadata.language!r} differs from {self.language!r}")
        timed = [turn.start is not None for turn in self.turns]
        if any(timed) and not all(timed):
            raise ValueError(
                f"turns {_numbers(timed, False)} have no times while others do: times on every turn or none"
            )
        return self

    @property
    def timed(self) -> bool:
        return self.turns[0].start is not None

    def content_sha256(self) -> str:
        """What was said, where and in which language: a metadata fix is the same conversation."""
        content = {
            "channel": self.channel,
            "language": self.language,
            "turns": [turn.model_dump(exclude_none=True) for turn in self.turns],
        }
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class ImportResult(BaseModel):
    imported: int = Field(default=0, description="stored now: new, changed labels, or replaced")
    unchanged: int = Field(default=0, description="stored already exactly so")
    problems: list[InputProblem] = Field(default_factory=list, description="lines not imported, and why")
    taken: list[str] = Field(
        default_factory=list, description="call ids refused: the store holds other content under them"
    )


def import_conversations(
    paths: Iterable[Path], store: Store, *, replace: bool = False, redact_pii: bool = False
) -> ImportResult:
    """Store every good line of the files (a folder: its `*.jsonl`, sorted) as a transcript.

    A call id given by lines with different conversations imports none of them, since keeping either
    would attach the other's reviews and history to it. `replace` lets a conversation take an id the store
    holds for other content; `redact_pii` redacts personal data before anything is stored.
    Files are read twice (checked, then stored), so memory holds an id and a digest per line, not the
    conversations."""
    files, problems = conversation_files(paths)
    accepted = _unique_conversations(files, problems)
    result = ImportResult(problems=problems)
    with store.exclusive_writer():
        batch: list[tuple[str, Conversation]] = []
        for where, parsed in _lines(files):
            if where not in accepted:
                continue
            if isinstance(parsed, str) or _line_digest(parsed) != accepted[where]:
                result.problems.append(InputProblem(where, "the line changed while it was imported"))
                continue
            batch.append((where, parsed))
            if len(batch) == _CHUNK:
                _store_batch(batch, store, replace, redact_pii, result)
                batch = []
        _store_batch(batch, store, replace, redact_pii, result)
    logger.info(
        "%d conversations imported, %d unchanged, %d problems",
        result.imported,
        result.unchanged,
        len(result.problems),
    )
    return result


def conversation_files(paths: Iterable[Path]) -> tuple[list[Path], list[InputProblem]]:
    """Files as given; a folder stands for the `*.jsonl` files in it."""
    files: list[Path] = []
    problems: list[InputProblem] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.glob("*.jsonl") if p.is_file())
            if not found:
                problems.append(InputProblem(str(path), "folder holds no .jsonl files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(InputProblem(str(path), "no such file or folder"))
    return list(dict.fromkeys(files)), problems


def read_conversations(path: Path) -> Iterator[tuple[str, Conversation | str]]:
    """(`file:line`, the conversation or why the line is not one) for every line that is not blank."""
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1:
                    raw = raw.removeprefix(codecs.BOM_UTF8)
                if not raw.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    yield where, Conversation.model_validate_json(raw.rstrip(b"\r\n"))
                except ValidationError as exc:
                    yield where, _reason(exc)
    except OSError as exc:
        yield str(path), f"cannot read the file ({exc.strerror or exc})"


def conversation_transcript(conversation: Conversation) -> Transcript:
    """The conversation as the transcript scoring reads. Typed text is certain of its words (log
    probability 0); without times every segment is at 0 s and the transcript says it is untimed."""
    segments = [
        Segment(
            speaker=turn.speaker,
            start=turn.start or 0.0,
            end=turn.end or 0.0,
            text=turn.text,
            avg_logprob=0.0,
            no_speech_prob=0.0,
            compression_ratio=0.0,
        )
        for turn in conversation.turns
    ]
    timed = conversation.timed
    duration = max(segment.end for segment in segments) if timed else 0.0
    untimed = CallTimings(talk_time={}, silence_total=0.0, silences=[], overtalk_total=0.0, overtalks=[])
    return Transcript(
        call_id=conversation.call_id,
        duration=duration,
        language=conversation.language,
        language_probability=1.0,
        channel_layout="text",
        channel=conversation.channel,
        timed=timed,
        segments=segments,
        timings=call_timings(segments, duration) if timed else untimed,
        model=IMPORT_MODEL,
        options={},
        audio_sha256=conversation.content_sha256(),
        metadata=conversation.metadata.model_copy(update={"language": conversation.language}),
    )


def _unique_conversations(files: list[Path], problems: list[InputProblem]) -> dict[str, str]:
    """`file:line` -> digest of each line to import: bad lines and clashing ids go to `problems`."""
    lines_by_id: dict[str, list[tuple[str, str]]] = {}
    for where, parsed in _lines(files):
        if isinstance(parsed, str):
            problems.append(InputProblem(where, parsed))
        else:
            lines_by_id.setdefault(parsed.call_id, []).append((where, _line_digest(parsed)))
    accepted: dict[str, str] = {}
    for call_id, lines in lines_by_id.items():
        first, digest = lines[0]
        if any(other != digest for _, other in lines):
            for where, _ in lines:
                others = ", ".join(w for w, _ in lines if w != where)
                problems.append(
                    InputProblem(
                        where,
                        f"call_id {call_id!r} is also the id of another conversation at {others}; none of "
                        "them is imported: give them ids of their own",
                    )
                )
            continue
        accepted[first] = digest
        problems.extend(
            InputProblem(where, f"the same conversation as {first}; imported once") for where, _ in lines[1:]
        )
    return accepted


def _store_batch(
    batch: list[tuple[str, Conversation]], store: Store, replace: bool, redact_pii: bool, result: ImportResult
) -> None:
    current = {t.call_id: t for t in store.transcripts([c.call_id for _, c in batch])} if batch else {}
    for where, conversation in batch:
        transcript = conversation_transcript(conversation)
        if redact_pii:
            transcript = redact_transcript(transcript)
            transcript = transcript.model_copy(update={"options": {"redact_pii": True}})
        if current.get(transcript.call_id) == transcript:
            result.unchanged += 1
            continue
        call = Call(
            call_id=transcript.call_id,
            audio_path="",  # no recording: the report offers no player, redact-audio passes it over
            audio=AudioInfo(
                duration=transcript.duration,
                sample_rate=0,
                channels=0,
                codec="text",
                sha256=transcript.audio_sha256,
            ),
            metadata=transcript.metadata,
        )
        key = transcript_cache_key(transcript.audio_sha256, IMPORT_MODEL, transcript.options)
        try:
            store.save_transcript(key, call, transcript, replace=replace)
        except CallIdTaken:
            result.problems.append(
                InputProblem(
                    where,
                    f"call id {transcript.call_id!r} is already stored for a different conversation or "
                    "recording; this one was not imported (replacing it must be asked for)",
                )
            )
            result.taken.append(transcript.call_id)
            continue
        result.imported += 1


def _lines(files: list[Path]) -> Iterator[tuple[str, Conversation | str]]:
    for path in files:
        yield from read_conversations(path)


def _line_digest(conversation: Conversation) -> str:
    """Two lines are one conversation when everything they say is the same, labels included."""
    return hashlib.sha256(conversation.model_dump_json().encode()).hexdigest()


def _reason(exc: ValidationError) -> str:
    """The first few of pydantic's findings, each with where in the line it is (`turns.2.end`)."""
    errors = exc.errors(include_url=False)
    shown = []
    for error in errors[:_SHOWN_ERRORS]:
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        shown.append(f"{where}: {message}" if where else message)
    more = f" (and {len(errors) - _SHOWN_ERRORS} more)" if len(errors) > _SHOWN_ERRORS else ""
    return "; ".join(shown) + more


def _numbers(flags: list[bool], value: bool) -> str:
    """1-based positions where `flags` is `value`, for a message people read."""
    return ", ".join(str(i) for i, flag in enumerate(flags, start=1) if flag == value)
