"""Coaching: per agent, the items they fail most with clips of the moments that failed them, the
supervisor's notes, and the agent's acknowledgement. Built on the scorecards people stand behind (the
AI's with the overrides in force), so an overturned dispute no longer counts against the agent."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean

from pydantic import BaseModel

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.overrides import apply_overrides
from qa_pipeline.control.workflow import overrides_by_card
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import CoachingNote, User
from qa_pipeline.store.database import Store
from qa_pipeline.team.access import NotVisible, require, visible_records

CLIPS_PER_ITEM = 3


class Clip(BaseModel):
    call_id: str
    checklist_id: str
    quote: str
    start: float | None
    end: float | None


class FailedItem(BaseModel):
    item_id: str
    question: str
    failed: int
    answered: int
    share_failed: float
    clips: list[Clip]


class CoachingView(BaseModel):
    agent: str
    calls: int
    mean_total: float | None
    items: list[FailedItem]
    notes: list[CoachingNote]


def coachable_agents(store: Store, user: User) -> list[str]:
    """The agents whose calls this user may see: a supervisor's teams' agents, an agent themself."""
    require(user, "supervisor", "admin", "agent")
    return sorted({r.metadata.agent for r in visible_records(store, user) if r.metadata.agent})


def _check_agent(store: Store, user: User, agent: str) -> None:
    if agent not in coachable_agents(store, user):
        raise NotVisible(f"no agent {agent!r}")


def coaching_view(store: Store, checklists: dict[str, Checklist], user: User, agent: str) -> CoachingView:
    _check_agent(store, user, agent)
    calls = [r.call_id for r in visible_records(store, user) if r.metadata.agent == agent]
    overrides = overrides_by_card(store.overrides())
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    clips: dict[str, list[Clip]] = defaultdict(list)
    questions: dict[str, str] = {}
    totals = []
    for card in store.scorecards(calls):
        checklist = checklists.get(card.checklist_id)
        if checklist is None or not checklist.scored:  # the customer's side is not the agent's to coach
            continue
        card = apply_overrides(card, checklist, overrides.get((card.call_id, card.checklist_id), []))
        if card.total is not None:
            totals.append(card.total)
        for verdict in card.verdicts:
            if verdict.answer is None or verdict.answer == "na":
                continue
            item = checklist.item(verdict.item_id)
            questions[item.id] = item.question
            tallies[item.id][1] += 1
            # a scale item below full marks is something to work on too
            failed = verdict.answer == "no" or (
                isinstance(verdict.answer, int) and verdict.answer < (item.scale_max or 0)
            )
            if not failed:
                continue
            tallies[item.id][0] += 1
            for evidence in verdict.evidence[:1]:
                if len(clips[item.id]) < CLIPS_PER_ITEM:
                    clips[item.id].append(
                        Clip(
                            call_id=card.call_id,
                            checklist_id=card.checklist_id,
                            quote=evidence.quote,
                            start=evidence.start,
                            end=evidence.end,
                        )
                    )
            if not verdict.evidence and len(clips[item.id]) < CLIPS_PER_ITEM:
                clips[item.id].append(
                    Clip(call_id=card.call_id, checklist_id=card.checklist_id, quote="", start=None, end=None)
                )
    items = [
        FailedItem(
            item_id=item_id,
            question=questions[item_id],
            failed=failed,
            answered=answered,
            share_failed=failed / answered,
            clips=clips[item_id],
        )
        for item_id, (failed, answered) in tallies.items()
        if failed
    ]
    items.sort(key=lambda i: (-i.share_failed, -i.failed, i.item_id))
    return CoachingView(
        agent=agent,
        calls=len(calls),
        mean_total=mean(totals) if totals else None,
        items=items,
        notes=store.coaching_notes(agent),
    )


def add_coaching_note(
    store: Store,
    checklists: dict[str, Checklist],
    supervisor: User,
    *,
    agent: str,
    text: str,
    items: list[str],
) -> CoachingNote:
    require(supervisor, "supervisor", "admin")
    _check_agent(store, supervisor, agent)
    known = {i.id for c in checklists.values() for i in c.items}
    unknown = sorted(set(items) - known)
    if unknown:
        raise ConfigError(f"not checklist items: {', '.join(unknown)}")
    if len(text.strip()) < 3:
        raise ConfigError("a coaching note needs some text")
    return store.add_coaching_note(
        CoachingNote(agent=agent, author=supervisor.name, items=sorted(set(items)), text=text.strip())
    )


def acknowledge_coaching_note(store: Store, agent: User, note_id: int) -> None:
    require(agent, "agent")
    assert agent.agent is not None
    if not store.acknowledge_coaching_note(note_id, agent.agent):
        raise NotVisible(f"no coaching note {note_id}")
