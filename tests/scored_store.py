"""A project store filled with scored calls without running any model, for the human-control tests.

The "AI" scorecards are the demo scripts' intended answers, optionally with chosen answers changed, so
every expected agreement number can be worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

from qa_pipeline.checklist import Checklist, load_checklist
from qa_pipeline.demo_corpus import DialogueScript, load_scripts
from qa_pipeline.models import (
    AudioInfo,
    Call,
    CallMetadata,
    CallTimings,
    Evidence,
    ItemVerdict,
    Scorecard,
    Segment,
    Transcript,
)
from qa_pipeline.scoring import score_call
from qa_pipeline.store.database import Store

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
    with_text: bool = False,
) -> dict[str, Checklist]:
    """Every demo call, scored with its script's answers except `changes[(call, item)]`.

    `with_text`: transcripts carry the script's lines (3 s apart) and each verdict quotes the agent's
    first line as its evidence, located in the transcript."""
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
            segments=script_segments(script) if with_text else [],
            timings=CallTimings(talk_time={}, silence_total=0, silences=[], overtalk_total=0, overtalks=[]),
            model="none",
            options={},
            audio_sha256="0" * 64,
            metadata=metadata,
        )
        store.save_transcript(f"key-{script.call_id}", call, transcript)
        answers = {item: answer for (call_id, item), answer in changes.items() if call_id == script.call_id}
        evidence = [last_agent_line(transcript)] if with_text else []
        store.save_scorecard(
            f"card-{script.call_id}", scripted_scorecard(script, checklist, answers, confidence, evidence)
        )
    return checklists


def scripted_scorecard(
    script: DialogueScript,
    checklist: Checklist,
    changes: dict[str, str | int],
    confidence: float = 0.9,
    evidence: list[Evidence] | None = None,
) -> Scorecard:
    """The script's answers to every item of `checklist`, except `changes[item]`."""
    verdicts = [
        ItemVerdict(
            item_id=item.id,
            answer=changes.get(item.id, script.expected[item.id]),
            confidence=confidence,
            evidence=evidence or [],
        )
        for item in checklist.items
    ]
    return score_call(checklist, script.call_id, verdicts)


def score_against_variant(
    store: Store,
    checklists: dict[str, Checklist],
    call_id: str,
    variant_id: str,
    changes: dict[str, str | int],
) -> dict[str, Checklist]:
    """Score `call_id` a second time, against a copy of its language's checklist under `variant_id`, with
    `changes[item]` as its answers there: a call scored against two checklists. Returns the checklists
    with the variant added."""
    script = load_scripts(SEEDS / "scripts")[call_id]
    variant = checklists[f"inbound-service-{script.language}"].model_copy(update={"id": variant_id})
    store.save_scorecard(f"card-{call_id}-{variant_id}", scripted_scorecard(script, variant, changes))
    return {**checklists, variant_id: variant}


def script_segments(script: DialogueScript) -> list[Segment]:
    lines = [(t.speaker, t.text) for t in script.turns if t.hold is None]
    return [
        Segment(
            speaker=speaker,  # type: ignore[arg-type]
            start=3.0 * i,
            end=3.0 * i + 2.5,
            text=text,
            avg_logprob=-0.2,
            no_speech_prob=0.01,
            compression_ratio=1.2,
        )
        for i, (speaker, text) in enumerate(lines)
    ]


def last_agent_line(transcript: Transcript) -> Evidence:
    """A quote well into the call, so playing from it is seen to move the audio."""
    line = [s for s in transcript.segments if s.speaker == "agent"][-1]
    return Evidence(
        quote=line.text, matched=True, speaker="agent", start=line.start, end=line.end, match_score=100
    )
