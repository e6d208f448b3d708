"""Transcribe many calls: cache, store, JSON files, and per-file failures that never stop the batch.

Results stream out one call at a time, so a progress bar can follow and a killed run keeps everything it
finished: each call is committed to the store and its JSON written atomically before the next starts.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from qa_pipeline.errors import AudioError, StoreError
from qa_pipeline.models import Call, Transcript
from qa_pipeline.progress import Track, untracked
from qa_pipeline.store.claimed_work import held_elsewhere, settle_claimed
from qa_pipeline.store.database import CallIdTaken, Store, transcript_cache_key
from qa_pipeline.transcription.ingest import CallSource, IdFrom, InputProblem, discover_inputs, probe_call
from qa_pipeline.transcription.transcribe import TranscribeOptions, Transcriber

logger = logging.getLogger(__name__)


class CallResult(BaseModel):
    """What happened to one input."""

    call_id: str
    source: str
    status: Literal["transcribed", "cached", "claimed", "failed"]  # claimed: another worker has it
    reason: str | None = None
    held_by: str | None = None  # claimed: the worker that holds the call, and until when
    held_until: datetime | None = None
    duration: float = 0.0
    language: str | None = None
    processing_seconds: float = 0.0
    output: str | None = None
    flagged_segments: int = 0


class BatchSummary(BaseModel):
    transcribed: int
    cached: int
    failed: int
    claimed: int = 0  # left to another worker sharing the run
    audio_seconds: float
    processing_seconds: float

    @property
    def real_time_factor(self) -> float | None:
        """Audio seconds per processing second for the calls actually transcribed (higher is faster)."""
        return self.audio_seconds / self.processing_seconds if self.processing_seconds else None


class TranscriptionRun(BaseModel):
    """The transcription stage's account: each call's result, the inputs that were not read, the sums."""

    results: list[CallResult]
    problems: list[InputProblem]
    summary: BatchSummary

    @property
    def transcribed_ids(self) -> list[str]:
        """The calls with a current transcript after the run (transcribed now or cached), in id order."""
        return sorted(r.call_id for r in self.results if r.output)

    @property
    def ok(self) -> bool:
        """False when an input was unreadable, a call failed, or a call is left with a stalled worker."""
        return not self.problems and not self.summary.failed and not self.summary.claimed

    def as_json(self) -> dict[str, object]:
        return {
            "results": [r.model_dump() for r in self.results],
            "skipped": [{"source": p.source, "reason": p.reason} for p in self.problems],
            "summary": {**self.summary.model_dump(), "real_time_factor": self.summary.real_time_factor},
        }


def transcribe_inputs(
    inputs: list[Path],
    options: TranscribeOptions,
    store: Store,
    out_dir: Path,
    *,
    force: bool = False,
    limit: int = 0,
    id_from: IdFrom = "stem",
    replace: bool = False,
    track: Track = untracked,
) -> TranscriptionRun:
    """Transcribe audio files, folders and manifests into the store and `out_dir`: the transcription stage.

    Inputs that cannot be read are listed in `problems` and the rest go on; `limit` takes the first N."""
    found = discover_inputs(inputs, id_from)
    for problem in found.problems:
        logger.info("skipped %s: %s", problem.source, problem.reason)
    sources = found.sources[: limit or None]
    transcriber = Transcriber(options)
    with store.exclusive_writer():
        batch = transcribe_batch(sources, transcriber, store, out_dir, force=force, replace=replace)
        results = list(track(batch, len(sources), "transcribing"))
    return TranscriptionRun(results=results, problems=found.problems, summary=summarise(results))


def transcribe_batch(
    sources: Iterable[CallSource],
    transcriber: Transcriber,
    store: Store,
    out_dir: Path,
    *,
    force: bool = False,
    replace: bool = False,
) -> Iterator[CallResult]:
    """`replace` lets a recording take an id the store holds for other audio (otherwise that call fails).

    Calls other workers hold are come back to at the end (`settle_claimed`), and one that a worker of
    this run finished meanwhile, with whatever model, is not done again."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = store.now()

    def attempt(source: CallSource) -> CallResult:
        return _transcribe_one(source, transcriber, store, out_dir, force, replace, started)

    claimed: list[tuple[CallSource, CallResult]] = []
    for source in sources:
        result = attempt(source)
        if result.status == "claimed":
            claimed.append((source, result))
        else:
            yield result
    yield from settle_claimed(claimed, attempt, store.heartbeat_seconds)


def summarise(results: Iterable[CallResult]) -> BatchSummary:
    results = list(results)
    done = [r for r in results if r.status == "transcribed"]
    return BatchSummary(
        transcribed=len(done),
        cached=sum(r.status == "cached" for r in results),
        failed=sum(r.status == "failed" for r in results),
        claimed=sum(r.status == "claimed" for r in results),
        audio_seconds=round(sum(r.duration for r in done), 2),
        processing_seconds=round(sum(r.processing_seconds for r in done), 2),
    )


def _transcribe_one(
    source: CallSource,
    transcriber: Transcriber,
    store: Store,
    out_dir: Path,
    force: bool,
    replace: bool,
    run_started: datetime,
) -> CallResult:
    started = time.perf_counter()
    try:
        call = probe_call(source)
        limit = transcriber.options.max_minutes
        if call.audio.duration > limit * 60:
            raise AudioError(
                f"{source.path}: recording is {call.audio.duration / 60:.0f} min long, over the "
                f"{limit:.0f} min limit (--max-minutes)"
            )
        if not replace:
            store.check_call_id(call)
        key = transcript_cache_key(
            call.audio.sha256, transcriber.model_ref.identity, transcriber.options_for(call)
        )
        transcript = None if force else store.cached_transcript(key)
        status: Literal["transcribed", "cached"] = "cached"
        note = None
        if transcript is None:
            claim = store.claim("transcribe", call.call_id, detail=key)
            if not claim:
                return CallResult(
                    call_id=call.call_id,
                    source=str(source.path),
                    status="claimed",
                    reason=f"{source.path}: {held_elsewhere(claim, key, str(source.path))}",
                    held_by=claim.holder,
                    held_until=claim.expires_at,
                )
            try:
                done = None if force else store.cached_transcript(key)  # finished while we looked
                elsewhere = None
                if done is not None and done.call_id == call.call_id:
                    transcript = done
                elif elsewhere := store.transcribed_since(call.call_id, call.audio.sha256, run_started):
                    transcript = elsewhere  # another worker of this run did it, maybe with another model
                    note = f"{source.path}: transcribed by another worker of this run ({elsewhere.model})"
                else:
                    transcript = transcriber.transcribe(call)
                    status = "transcribed"
                if elsewhere is None:  # the other worker stored its transcript already, under its key
                    store.save_transcript(key, call, transcript, replace=replace)
            finally:
                store.release("transcribe", call.call_id)
        else:
            # Same audio under a new id or metadata: reuse the words, keep the new labels. Saved even when
            # unchanged, so the cached version becomes the call's current one in the store.
            transcript = transcript.model_copy(update={"call_id": call.call_id, "metadata": call.metadata})
            store.save_transcript(key, call, transcript, replace=replace)
    except (AudioError, CallIdTaken) as exc:
        logger.warning("%s", exc)
        return CallResult(call_id=source.call_id, source=str(source.path), status="failed", reason=str(exc))
    except StoreError as exc:  # a store that failed on this call may serve the next (a dropped connection)
        logger.warning("%s", exc)
        return CallResult(
            call_id=source.call_id, source=str(source.path), status="failed", reason=f"{source.path}: {exc}"
        )
    result = _finished(call, source, status, transcript, out_dir, started)
    return result.model_copy(update={"reason": note}) if note and not result.reason else result


def _finished(
    call: Call,
    source: CallSource,
    status: Literal["transcribed", "cached"],
    transcript: Transcript,
    out_dir: Path,
    started: float,
) -> CallResult:
    output = out_dir / f"{call.call_id}.json"
    write_json_atomic(output, transcript)
    return CallResult(
        call_id=call.call_id,
        source=str(source.path),
        status=status,
        reason=f"{source.path}: no speech found; scoring leaves its items to people"
        if not transcript.has_speech
        else None,
        duration=transcript.duration,
        language=transcript.language,
        processing_seconds=round(time.perf_counter() - started, 3),
        output=str(output),
        flagged_segments=sum(bool(s.flags) for s in transcript.segments),
    )


def write_json_atomic(path: Path, document: BaseModel) -> None:
    write_text_atomic(path, document.model_dump_json(indent=2))


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file and rename, so a killed run never leaves half a file.

    The file gets the permissions any new file would (temporary files are private to their owner)."""
    path.parent.mkdir(parents=True, exist_ok=True)  # ids from paths (2026-10-01/0001) name subfolders
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
