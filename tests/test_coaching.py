"""Coaching: an agent's most failed items with clips of the moments, from the scorecards people stand
behind; a supervisor's note, acknowledged by the agent it is for and nobody else."""

from __future__ import annotations

from pathlib import Path

import pytest
from workspace_fixture import CHECKLIST, EN01, user_named, workspace_store

from qa_pipeline.team.access import NotAllowed, NotVisible
from qa_pipeline.team.coaching import acknowledge_coaching_note, add_coaching_note, coaching_view
from qa_pipeline.team.disputes import decide_dispute, raise_dispute


def test_coaching_shows_failed_items_with_clips_and_follows_overturned_disputes(tmp_path: Path) -> None:
    store, checklists = workspace_store(tmp_path / "qa.sqlite")
    supervisor, anna = user_named(store, "sv.billing"), user_named(store, "ag.anna")
    view = coaching_view(store, checklists, supervisor, "Anna Clarke")
    assert view.calls == 1
    [empathy] = view.items  # the one verdict the AI got wrong on her call
    assert (empathy.item_id, empathy.failed, empathy.answered) == ("empathy", 1, 1)
    [clip] = empathy.clips
    assert clip.call_id == EN01 and clip.start is not None and clip.start > 0 and clip.quote
    # overturned: it no longer counts against her
    dispute = raise_dispute(
        store,
        checklists,
        anna,
        call_id=EN01,
        checklist_id=CHECKLIST,
        item_id="empathy",
        reason="I apologised at the start of the call",
    )
    decide_dispute(
        store, checklists, supervisor, dispute.id or 0, outcome="overturned", comment="she did", answer="yes"
    )
    assert coaching_view(store, checklists, supervisor, "Anna Clarke").items == []
    # the agent sees their own page, not a colleague's; the other team's supervisor sees neither
    assert coaching_view(store, checklists, anna, "Anna Clarke").agent == "Anna Clarke"
    with pytest.raises(NotVisible):
        coaching_view(store, checklists, anna, "Tom Baker")
    with pytest.raises(NotVisible):
        coaching_view(store, checklists, user_named(store, "sv.cards"), "Anna Clarke")


def test_a_note_is_acknowledged_by_its_agent_only(tmp_path: Path) -> None:
    store, checklists = workspace_store(tmp_path / "qa.sqlite")
    supervisor = user_named(store, "sv.billing")
    note = add_coaching_note(
        store, checklists, supervisor, agent="Anna Clarke", text="Say sorry early.", items=["empathy"]
    )
    assert note.id is not None and not note.acknowledged
    with pytest.raises(NotVisible):  # another agent cannot acknowledge it for her
        acknowledge_coaching_note(store, user_named(store, "ag.tom"), note.id)
    with pytest.raises(NotAllowed):
        acknowledge_coaching_note(store, supervisor, note.id)
    assert not store.coaching_notes("Anna Clarke")[0].acknowledged
    acknowledge_coaching_note(store, user_named(store, "ag.anna"), note.id)
    acknowledge_coaching_note(store, user_named(store, "ag.anna"), note.id)  # twice changes nothing
    [stored] = store.coaching_notes("Anna Clarke")
    assert stored.acknowledged and stored.author == "sv.billing" and stored.items == ["empathy"]
    with pytest.raises(NotVisible):  # a supervisor of another team cannot write to her
        add_coaching_note(
            store, checklists, user_named(store, "sv.cards"), agent="Anna Clarke", text="hello", items=[]
        )
