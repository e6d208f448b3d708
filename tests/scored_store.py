"""A project store filled with scored calls without running any model, for the human-control tests.

The "AI" scorecards are the demo scripts' intended answers, optionally with chosen answers changed, so
every expected agreement number can be worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

from qa_pipeline.checklist import Checklist, load_checklist
from qa_pipeline.demo_corpus import load_scripts
from qa_pipeline.models import (
    AudioInfo,
    Call,
    CallMetadata,
    CallTimings,
    ItemVerdict,
    Transcript,
)
from qa_pipeline.scoring import score_call
from qa_pipeline.store import Store

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


def demo_checklists() -> dict[str, Checklist]:
    loaded = [load_checklist(p) for p in sorted((REPO / "checklists").glob("*.yaml"))]
    return {c.id: c for c in loaded}


def fill_store(
    store: Store,
    changes: dict[tuple[str, str], str | int] | None = None,
    confidence: float = 0.9,
    dates: dict[str, str] | None = None,
) -> dict[str, Checklist]:
    """Every demo call, scored with its script's answers except `changes[(call, item)]`."""
    checklists = demo_checklists()
    changes = changes or {}
    for script in load_scripts(SEEDS / "scripts").values():
        checklist = checklists[f"inbound-service-{script.language}"]
        metadata = CallMetadata(
            agent=script.agent,
            team=script.team,
            queue=script.queue,
            date=(dates or {}).get(script.call_id, script.date),
            language=script.language,
        )
        call = Call(
            call_id=script.call_id,
            audio_path=str(SEEDS / "audio" / f"{script.call_id}.ogg"),
            audio=AudioInfo(duration=60.0, sample_rate=16000, channels=2, codec="vorbis", sha256="0" * 64),
            metadata=metadata,
        )
        transcript = Transcript(
            call_id=script.call_id,
            duration=60.0,
            language=script.language,
            language_probability=1.0,
            channel_layout="stereo",
            segments=[],
            timings=CallTimings(talk_time={}, silence_total=0, silences=[], overtalk_total=0, overtalks=[]),
            model="none",
            options={},
            audio_sha256="0" * 64,
            metadata=metadata,
        )
        store.save_transcript(f"key-{script.call_id}", call, transcript)
        verdicts = [
            ItemVerdict(
                item_id=item.id,
                answer=changes.get((script.call_id, item.id), script.expected[item.id]),
                confidence=confidence,
            )
            for item in checklist.items
        ]
        store.save_scorecard(f"card-{script.call_id}", score_call(checklist, script.call_id, verdicts))
    return checklists
