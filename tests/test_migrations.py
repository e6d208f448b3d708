"""Stores made by releases before migrations open, and save and read everything, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from early_stores import EARLY_STORES, EARLY_TRANSCRIPT, make_early_store

from qa_pipeline.models import AudioInfo, Call, HumanReview, ItemVerdict, Override, SamplePick, Scorecard
from qa_pipeline.store.database import Store
from qa_pipeline.store.schema import current_revision, head_revision


def engine_url(store_url: str) -> str:
    return store_url if "://" in store_url else f"sqlite:///{store_url}"


@pytest.mark.parametrize("opened_since", [False, True], ids=["never-opened", "opened-by-01593a1"])
@pytest.mark.parametrize("commit", list(EARLY_STORES))
def test_an_early_store_gets_the_tables_and_keys_it_lacks(
    store_url: str, commit: str, opened_since: bool
) -> None:
    make_early_store(engine_url(store_url), commit, opened_since=opened_since)
    store = Store(store_url)
    with store.engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    assert list(store.transcripts()) == [EARLY_TRANSCRIPT]

    # The same recording under a second id keeps its own row: transcripts are keyed by cache key and call.
    copy = Call(
        call_id="early-copy",
        audio_path="/calls/early-copy.wav",
        audio=AudioInfo(duration=12.5, sample_rate=8000, channels=2, codec="pcm_s16le", sha256="a" * 64),
    )
    store.save_transcript("key-early", copy, EARLY_TRANSCRIPT.model_copy(update={"call_id": "early-copy"}))
    assert [t.call_id for t in store.transcripts()] == ["early", "early-copy"]

    card = Scorecard(
        call_id="early",
        checklist_id="inbound",
        checklist_version="1",
        verdicts=[ItemVerdict(item_id="greeting", answer="yes")],
        total=100.0,
        complete=True,
    )
    store.save_scorecard("card-early", card)
    review = HumanReview(
        call_id="early", checklist_id="inbound", item_id="greeting", reviewer="ana", answer="no"
    )
    assert store.save_reviews([review]).inserted == 1
    override = Override(
        call_id="early",
        checklist_id="inbound",
        item_id="greeting",
        supervisor="boss",
        ai_answer="yes",
        answer="no",
        comment="no greeting was said",
    )
    store.add_override(override)
    pick = SamplePick(call_id="early", checklist_id="inbound", kind="random", reasons=["baseline"])
    store.save_sample("2026-01", [pick])
    assert (list(store.scorecards()), store.human_reviews(), store.overrides(), store.sample_picks()) == (
        [card],
        [review],
        [override],
        [pick],
    )
    store.close()
