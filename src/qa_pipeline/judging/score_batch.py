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
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from qa_pipeline.batch import write_json_atomic
from qa_pipeline.checklist import Checklist
from qa_pipeline.errors import ConfigError, QAPipelineError
from qa_pipeline.judging.judge import Judge
from qa_pipeline.models import Scorecard, Transcript
from qa_pipeline.store import Store


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
    seconds: float = 0.0
    completion_tokens: int = 0
    output: str | None = None


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
    stored as soon as it is done, so a killed run loses at most one batch."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pending: list[tuple[Transcript, Checklist, str]] = []
    for transcript in transcripts:
        checklist = select_checklist(checklists, transcript)
        if checklist is None:
            yield ScoreResult(
                call_id=transcript.call_id,
                status="skipped",
                reason=f"no checklist applies (language {transcript.language}, "
                f"queue {transcript.metadata.queue})",
            )
            continue
        key = scorecard_cache_key(transcript, checklist, judge)
        card = None if force else store.cached_scorecard(key)
        if card is None and not store.claim("score", key):
            yield ScoreResult(
                call_id=transcript.call_id,
                status="claimed",
                checklist=checklist.id,
                reason="another worker is scoring it",
            )
            continue
        if card is None and not force:
            card = store.cached_scorecard(key)  # finished by another worker while we looked
            if card is not None:
                store.release("score", key)
        if card is not None:
            store.mark_current(key)
            yield _finished(card, checklist, out_dir, "cached", 0.0, 0)
            continue
        pending.append((transcript, checklist, key))
        if len(pending) >= batch_size:
            yield from _score_pending(pending, judge, store, out_dir)
            pending = []
    if pending:
        yield from _score_pending(pending, judge, store, out_dir)


def stored_transcripts(store: Store, calls: list[str] | None = None) -> list[Transcript]:
    """The store's transcripts, or those of `calls` only; none at all is an error, not an empty run."""
    transcripts = [t for t in store.transcripts() if not calls or t.call_id in calls]
    if not transcripts:
        raise ConfigError(f"no transcripts in {store.url}: transcribe the calls first")
    return transcripts


def score_stored(
    transcripts: list[Transcript],
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


def auto_batch_size(judge: Judge) -> int:
    """Batching pays where a GPU or a server does the work; on 2 CPU cores it gained nothing clear
    (benchmarks/score.py: 85 calls/hour at 4 vs 62-90 at 1) and costs memory."""
    device = getattr(judge.backend, "device", None)
    return 1 if device == "cpu" else 8


def _score_pending(
    pending: list[tuple[Transcript, Checklist, str]], judge: Judge, store: Store, out_dir: Path
) -> Iterator[ScoreResult]:
    started = time.perf_counter()
    try:
        scored = judge.score_many([(checklist, transcript) for transcript, checklist, _ in pending])
    except QAPipelineError as exc:
        for transcript, checklist, key in pending:
            store.release("score", key)
            yield ScoreResult(
                call_id=transcript.call_id, status="failed", checklist=checklist.id, reason=str(exc)
            )
        return
    seconds = (time.perf_counter() - started) / len(pending)
    for (_, checklist, key), (card, stats) in zip(pending, scored, strict=True):
        tokens = int(stats["completion_tokens"])
        failed = [v.item_id for v in card.verdicts if "judge_failed" in v.flags]
        if not failed:
            store.save_scorecard(key, card)
            store.release("score", key)
            yield _finished(card, checklist, out_dir, "scored", seconds, tokens)
            continue
        store.save_scorecard(f"failed:{uuid.uuid4().hex}", card)  # kept, but under no reusable key
        store.release("score", key)
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
