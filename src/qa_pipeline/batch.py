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
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from qa_pipeline.errors import AudioError
from qa_pipeline.ingest import CallSource, probe_call
from qa_pipeline.models import Call, Transcript
from qa_pipeline.store import CallIdTaken, Store, transcript_cache_key
from qa_pipeline.transcribe import Transcriber

logger = logging.getLogger(__name__)


class CallResult(BaseModel):
    """What happened to one input."""

    call_id: str
    source: str
    status: Literal["transcribed", "cached", "claimed", "failed"]  # claimed: another worker has it
    reason: str | None = None
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


def transcribe_batch(
    sources: Iterable[CallSource],
    transcriber: Transcriber,
    store: Store,
    out_dir: Path,
    *,
    force: bool = False,
    replace: bool = False,
) -> Iterator[CallResult]:
    """`replace` lets a recording take an id the store holds for other audio (otherwise that call fails)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for source in sources:
        yield _transcribe_one(source, transcriber, store, out_dir, force, replace)


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
    source: CallSource, transcriber: Transcriber, store: Store, out_dir: Path, force: bool, replace: bool
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
        if transcript is None:
            claim = f"{key}:{call.call_id}"
            if not store.claim("transcribe", claim):
                return CallResult(
                    call_id=call.call_id,
                    source=str(source.path),
                    status="claimed",
                    reason="another worker is transcribing it",
                )
            try:
                done = None if force else store.cached_transcript(key)  # finished while we looked
                if done is not None and done.call_id == call.call_id:
                    transcript = done
                else:
                    transcript = transcriber.transcribe(call)
                    status = "transcribed"
                store.save_transcript(key, call, transcript, replace=replace)
            finally:
                store.release("transcribe", claim)
        else:
            # Same audio under a new id or metadata: reuse the words, keep the new labels. Saved even when
            # unchanged, so the cached version becomes the call's current one in the store.
            transcript = transcript.model_copy(update={"call_id": call.call_id, "metadata": call.metadata})
            store.save_transcript(key, call, transcript, replace=replace)
    except (AudioError, CallIdTaken) as exc:
        logger.warning("%s", exc)
        return CallResult(call_id=source.call_id, source=str(source.path), status="failed", reason=str(exc))
    return _finished(call, source, status, transcript, out_dir, started)


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
