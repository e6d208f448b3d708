"""Score many transcripts: checklist choice per call, cache, store, JSON files, failures kept per call.

Each scorecard is stored when it is finished, so a killed run resumes where it stopped; a scorecard is
reused when the transcript, the checklist and the judge (backend, model, prompt) are all unchanged.
Workers sharing a store claim each call before judging it, so none is judged twice at once. A
scorecard whose judge failed (server down, no valid reply) is stored and written for people to see, but
never reused: the next run asks the judge again.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from qa_pipeline.checklist import Checklist
from qa_pipeline.errors import ConfigError, QAPipelineError
from qa_pipeline.judging.judge import Judge
from qa_pipeline.models import Scorecard, Transcript
from qa_pipeline.progress import Track, untracked
from qa_pipeline.store.claimed_work import held_elsewhere, settle_claimed
from qa_pipeline.store.database import Store
from qa_pipeline.transcription.batch import write_json_atomic


class ScoreResult(BaseModel):
    call_id: str
    status: Literal["scored", "cached", "claimed", "failed", "skipped"]  # claimed: another worker has it
    checklist: str | None = None
    total: float | None = None
    complete: bool = False
    failed_critical: list[str] = []
    flagged_critical: list[str] = []
    needs_human: int = 0
    reason: str | None = None
    held_by: str | None = None  # claimed: the worker that holds the call, and until when
    held_until: datetime | None = None
    seconds: float = 0.0
    completion_tokens: int = 0
    output: str | None = None


def scoring_ok(results: Iterable[ScoreResult]) -> bool:
    """False when a call failed, had no checklist, or is left with a worker that stopped renewing it."""
    return not any(r.status in ("failed", "skipped", "claimed") for r in results)


def select_checklist(checklists: list[Checklist], transcript: Transcript) -> Checklist | None:
    """A single checklist applies to every call; among several, the first whose rules match the call."""
    if len(checklists) == 1:
        return checklists[0]
    facts = transcript.metadata.model_dump()
    facts["language"] = transcript.metadata.language or transcript.language
    return next((checklist for checklist in checklists if checklist.applies(facts)), None)


def scorecard_cache_key(transcript: Transcript, checklist: Checklist, judge: Judge) -> str:
    payload = json.dumps(
        {
            "transcript": transcript.model_dump(mode="json"),
            "checklist": checklist.model_dump(mode="json"),
            "judge": judge.identity(checklist),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def score_batch(
    transcripts: Iterable[Transcript],
    checklists: list[Checklist],
    judge: Judge,
    store: Store,
    out_dir: Path,
    *,
    force: bool = False,
    batch_size: int = 1,
) -> Iterator[ScoreResult]:
    """Results in input order; uncached calls go to the judge `batch_size` at a time, and each batch is
    stored as soon as it is done, so a killed run loses at most one batch. Calls other workers hold are
    come back to at the end (`settle_claimed`); one that a worker of this run scored meanwhile, with
    whatever judge, is not scored again."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = store.now()
    pending: list[_Pending] = []
    claimed: list[tuple[Transcript, ScoreResult]] = []
    for transcript in transcripts:
        ready = _prepare(transcript, checklists, judge, store, out_dir, force, started)
        if isinstance(ready, _Pending):
            pending.append(ready)
            if len(pending) >= batch_size:
                yield from _score_pending(pending, judge, store, out_dir)
                pending = []
        elif ready.status == "claimed":
            claimed.append((transcript, ready))
        else:
            yield ready
    if pending:
        yield from _score_pending(pending, judge, store, out_dir)

    def attempt(transcript: Transcript) -> ScoreResult:
        ready = _prepare(transcript, checklists, judge, store, out_dir, force, started)
        return next(_score_pending([ready], judge, store, out_dir)) if isinstance(ready, _Pending) else ready

    yield from settle_claimed(claimed, attempt, store.heartbeat_seconds)


@dataclass(frozen=True)
class _Pending:
    """A call this worker has claimed for a checklist, waiting for the judge."""

    transcript: Transcript
    checklist: Checklist
    cache_key: str
    claim_key: str


def _prepare(
    transcript: Transcript,
    checklists: list[Checklist],
    judge: Judge,
    store: Store,
    out_dir: Path,
    force: bool,
    run_started: datetime,
) -> ScoreResult | _Pending:
    """A result where no judging is needed (skipped, cached, held by another worker, scored by another
    worker of this run), else the claimed work."""
    checklist = select_checklist(checklists, transcript)
    if checklist is None:
        return ScoreResult(
            call_id=transcript.call_id,
            status="skipped",
            reason=f"no checklist applies (language {transcript.language}, "
            f"queue {transcript.metadata.queue})",
        )
    key = scorecard_cache_key(transcript, checklist, judge)
    card = None if force else store.cached_scorecard(key)
    if card is not None:
        store.mark_current(key)
        return _finished(card, checklist, out_dir, "cached", 0.0, 0)
    claim_key = f"{transcript.call_id}:{checklist.id}"  # call ids never hold ':'
    claim = store.claim("score", claim_key, detail=key)
    if not claim:
        return ScoreResult(
            call_id=transcript.call_id,
            status="claimed",
            checklist=checklist.id,
            reason=held_elsewhere(claim, key, f"{transcript.call_id} ({checklist.id})"),
            held_by=claim.holder,
            held_until=claim.expires_at,
        )
    card = None if force else store.cached_scorecard(key)  # finished by another worker while we looked
    elsewhere = (
        None if card is not None else store.scored_since(transcript.call_id, checklist.id, run_started)
    )
    if card is None and elsewhere is None:
        return _Pending(transcript, checklist, key, claim_key)
    store.release("score", claim_key)
    if card is not None:
        store.mark_current(key)
        return _finished(card, checklist, out_dir, "cached", 0.0, 0)
    assert elsewhere is not None
    model = elsewhere.judge.get("model", "another judge")
    note = f"{transcript.call_id}: scored by another worker of this run ({model})"
    return _finished(elsewhere, checklist, out_dir, "cached", 0.0, 0).model_copy(update={"reason": note})


def stored_transcripts(store: Store, calls: list[str] | None = None) -> Iterator[Transcript]:
    """The store's transcripts, or those of `calls` only, read lazily (a store may hold more than memory
    does); none at all is an error, not an empty run."""
    transcripts = store.transcripts(calls or None)
    first = next(transcripts, None)
    if first is None:
        raise ConfigError(f"no transcripts in {store.url}: transcribe the calls first")
    return chain([first], transcripts)


def score_stored(
    transcripts: Iterable[Transcript],
    checklists: list[Checklist],
    judge: Judge,
    store: Store,
    out_dir: Path,
    *,
    force: bool = False,
    batch_size: int = 0,
) -> Iterator[ScoreResult]:
    """`score_batch` holding the store's writer lock while it runs; batch size 0 picks it by device."""
    with store.exclusive_writer():
        yield from score_batch(
            transcripts,
            checklists,
            judge,
            store,
            out_dir,
            force=force,
            batch_size=batch_size or auto_batch_size(judge),
        )


def score_store(
    store: Store,
    checklists: list[Checklist],
    judge: Judge,
    out_dir: Path,
    *,
    calls: list[str] | None = None,
    force: bool = False,
    batch_size: int = 0,
    track: Track = untracked,
) -> list[ScoreResult]:
    """Score the store's transcripts (or those of `calls`) into the store and `out_dir`: the scoring
    stage. A call that fails is in the results with its reason, and the rest go on."""
    transcripts = stored_transcripts(store, calls)
    scoring = score_stored(transcripts, checklists, judge, store, out_dir, force=force, batch_size=batch_size)
    return list(track(scoring, store.transcript_count(calls or None), "scoring"))


def auto_batch_size(judge: Judge) -> int:
    """Batching pays where a GPU or a server does the work; on 2 CPU cores it gained nothing clear
    (benchmarks/score.py: 85 calls/hour at 4 vs 62-90 at 1) and costs memory."""
    device = getattr(judge.backend, "device", None)
    return 1 if device == "cpu" else 8


def _score_pending(
    pending: list[_Pending], judge: Judge, store: Store, out_dir: Path
) -> Iterator[ScoreResult]:
    started = time.perf_counter()
    try:
        scored = judge.score_many([(work.checklist, work.transcript) for work in pending])
    except QAPipelineError as exc:
        for work in pending:
            store.release("score", work.claim_key)
            yield ScoreResult(
                call_id=work.transcript.call_id, status="failed", checklist=work.checklist.id, reason=str(exc)
            )
        return
    seconds = (time.perf_counter() - started) / len(pending)
    for work, (card, stats) in zip(pending, scored, strict=True):
        checklist = work.checklist
        tokens = int(stats["completion_tokens"])
        failed = [v.item_id for v in card.verdicts if "judge_failed" in v.flags]
        if not failed:
            store.save_scorecard(work.cache_key, card)
            store.release("score", work.claim_key)
            yield _finished(card, checklist, out_dir, "scored", seconds, tokens)
            continue
        store.save_scorecard(f"failed:{uuid.uuid4().hex}", card)  # kept, but under no reusable key
        store.release("score", work.claim_key)
        errors = stats.get("errors") or ["no valid reply"]
        reason = (
            f"judge failed on {len(failed)} items ({errors[-1][:200]}); they are left to people and the "
            "scorecard is not reused: run score again to retry"
        )
        yield _finished(card, checklist, out_dir, "failed", seconds, tokens).model_copy(
            update={"reason": reason}
        )


def _finished(
    card: Scorecard,
    checklist: Checklist,
    out_dir: Path,
    status: Literal["scored", "cached", "failed"],
    seconds: float,
    tokens: int,
) -> ScoreResult:
    output = out_dir / f"{card.call_id}.json"
    write_json_atomic(output, card)
    return ScoreResult(
        call_id=card.call_id,
        status=status,
        checklist=f"{checklist.id} v{checklist.version}",
        total=card.total,
        complete=card.complete,
        failed_critical=card.failed_critical,
        flagged_critical=card.flagged_critical,
        needs_human=sum(v.needs_human for v in card.verdicts),
        seconds=round(seconds, 2),
        completion_tokens=tokens,
        output=str(output),
    )
