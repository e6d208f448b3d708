"""One call as a given user may see it: the pages and the JSON API both render this, so what a blind
controller or an agent is shown is decided once, here, and tested once."""

from __future__ import annotations

from pydantic import BaseModel

from qa_pipeline.checklist import Checklist
from qa_pipeline.models import Answer, Dispute, Evidence, User
from qa_pipeline.store.database import Store
from qa_pipeline.team.access import NotVisible, assigned_calls, sees_ai, visible_record
from qa_pipeline.team.disputes import effective_scorecard
from qa_pipeline.team.reviewing import my_reviews


class LineView(BaseModel):
    speaker: str
    start: float
    end: float
    text: str


class ItemView(BaseModel):
    id: str
    question: str
    answers: list[str]
    critical: str | None
    weight: float
    ai_answer: Answer | None = None
    ai_source: str | None = None
    ai_rationale: str | None = None
    ai_evidence: list[Evidence] = []
    my_answer: Answer | None = None
    my_comment: str = ""


class CallView(BaseModel):
    call_id: str
    checklist_id: str
    checklists: list[str]
    agent: str | None
    team: str | None
    queue: str | None
    date: str | None
    duration: float
    has_audio: bool
    lines: list[LineView]
    items: list[ItemView]
    ai_shown: bool
    total: float | None = None
    complete: bool | None = None
    disputes: list[Dispute] = []
    acknowledged: bool = False


def call_view(
    store: Store, checklists: dict[str, Checklist], user: User, call_id: str, checklist_id: str | None = None
) -> CallView:
    record = visible_record(store, user, call_id)
    if user.role == "controller":
        options = sorted(c for call, c in assigned_calls(store, user, [call_id]) if call == call_id)
    else:
        options = sorted(c.checklist_id for c in store.scorecards([call_id]))
    options = [c for c in options if c in checklists]
    if not options or (checklist_id is not None and checklist_id not in options):
        raise NotVisible(
            f"no scorecard of call {call_id!r}" + (f" against {checklist_id!r}" if checklist_id else "")
        )
    chosen = checklist_id or options[0]
    checklist = checklists[chosen]
    transcript = next(iter(store.transcripts([call_id])), None)
    lines = [
        LineView(speaker=s.speaker, start=s.start, end=s.end, text=s.text)
        for s in (transcript.segments if transcript else [])
    ]
    shown = sees_ai(user)
    card = effective_scorecard(store, checklists, call_id, chosen) if shown else None
    verdicts = {v.item_id: v for v in card.verdicts} if card else {}
    mine = my_reviews(store, user, call_id, chosen) if user.role != "agent" else {}
    items = []
    for item in checklist.items:
        verdict = verdicts.get(item.id)
        review = mine.get(item.id)
        items.append(
            ItemView(
                id=item.id,
                question=item.question,
                answers=item.answer_labels,
                critical=item.critical,
                weight=item.weight,
                ai_answer=verdict.answer if verdict else None,
                ai_source=verdict.source if verdict else None,
                ai_rationale=verdict.rationale if verdict else None,
                ai_evidence=verdict.evidence if verdict else [],
                my_answer=review.answer if review else None,
                my_comment=review.comment if review else "",
            )
        )
    disputes: list[Dispute] = []
    if user.role in ("agent", "supervisor", "admin"):
        disputes = [d for d in store.disputes([call_id]) if d.checklist_id == chosen]
    acknowledged = user.role == "agent" and any(
        a.call_id == call_id and a.checklist_id == chosen and a.agent == user.agent
        for a in store.acknowledgements([call_id])
    )
    return CallView(
        call_id=call_id,
        checklist_id=chosen,
        checklists=options,
        agent=record.metadata.agent,
        team=record.metadata.team,
        queue=record.metadata.queue,
        date=record.metadata.date,
        duration=record.duration,
        has_audio=bool(record.audio_path),
        lines=lines,
        items=items,
        ai_shown=shown,
        total=card.total if card else None,
        complete=card.complete if card else None,
        disputes=disputes,
        acknowledged=acknowledged,
    )
