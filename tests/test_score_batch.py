"""Scoring many calls: what is reused from the store, what is not, and which result readers see."""

from pathlib import Path

import pytest
from conftest import free_port, typed_transcript

from qa_pipeline.checklist import Checklist, load_checklist
from qa_pipeline.judging.backends import make_backend
from qa_pipeline.judging.judge import Judge
from qa_pipeline.judging.score_batch import score_batch, scorecard_cache_key
from qa_pipeline.models import ItemVerdict, Transcript
from qa_pipeline.scoring import score_call
from qa_pipeline.store.database import Store

REPO = Path(__file__).resolve().parent.parent


def unreachable_judge(model: str) -> Judge:
    """A real OpenAI-compatible client pointed at a port nobody listens on: every request fails."""
    backend = make_backend("openai", model=model, base_url=f"http://127.0.0.1:{free_port()}/v1", timeout=5)
    return Judge(backend, retries=0)


def checklist() -> Checklist:
    return load_checklist(REPO / "checklists" / "inbound-service-en.yaml")


def transcript() -> Transcript:
    return typed_transcript(
        ("agent", "Good morning, Lumen Broadband, Grace speaking."), ("customer", "My internet is down.")
    )


def test_a_failed_judge_run_is_kept_for_people_but_not_reused(tmp_path: Path) -> None:
    store, judge = Store(tmp_path / "qa.sqlite"), unreachable_judge("x")
    for _ in range(2):  # the second run asks the judge again instead of serving the failure from cache
        [result] = score_batch([transcript()], [checklist()], judge, store, tmp_path / "cards")
        assert result.status == "failed" and result.reason is not None
        assert "not reused" in result.reason and result.output is not None
    [card] = store.scorecards()
    failed = [v for v in card.verdicts if "judge_failed" in v.flags]
    assert failed and all(v.needs_human and v.answer is None for v in failed)
    assert any(v.answer is not None for v in card.verdicts)  # rule items are kept
    assert store.cached_scorecard(scorecard_cache_key(transcript(), checklist(), judge)) is None


def test_a_scorecard_served_from_cache_becomes_the_newest_again(tmp_path: Path) -> None:
    store, call, checklist_ = Store(tmp_path / "qa.sqlite"), transcript(), checklist()
    judges = {name: unreachable_judge(name) for name in ("x", "y")}

    def card_of(answer: str):  # type: ignore[no-untyped-def]
        verdicts = [ItemVerdict(item_id=i.id, answer=answer, confidence=0.9) for i in checklist_.items]
        return score_call(checklist_, call.call_id, verdicts)

    # Judge X said yes everywhere, then judge Y said no everywhere; now X is used again.
    store.save_scorecard(scorecard_cache_key(call, checklist_, judges["x"]), card_of("yes"))
    store.save_scorecard(scorecard_cache_key(call, checklist_, judges["y"]), card_of("no"))
    [result] = score_batch([call], [checklist_], judges["x"], store, tmp_path / "cards")
    assert result.status == "cached"
    [newest] = store.scorecards()
    assert {v.answer for v in newest.verdicts} == {"yes"}  # what sampling and calibration now read


def test_a_call_without_speech_leaves_every_item_to_people(tmp_path: Path) -> None:
    silent = transcript().model_copy(update={"segments": []})
    store, judge = Store(tmp_path / "qa.sqlite"), unreachable_judge("x")  # never asked
    [result] = score_batch([silent], [checklist()], judge, store, tmp_path / "cards")
    assert result.status == "scored" and result.needs_human == len(checklist().items)
    [card] = store.scorecards()
    assert all(v.answer is None and v.flags == ["no_speech"] for v in card.verdicts)
    assert card.total is None and not card.failed_critical  # nobody is failed on a silent recording


def test_a_down_server_is_retried_with_growing_waits_then_left_to_people(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr("qa_pipeline.judging.judge.time.sleep", waits.append)
    judge = unreachable_judge("x")
    judge.retries, judge.backoff = 3, 0.5
    [result] = score_batch([transcript()], [checklist()], judge, Store(tmp_path / "qa.sqlite"), tmp_path)
    assert waits == [0.5, 1.0, 2.0]  # before each of the three retries
    assert result.status == "failed" and "judge failed" in str(result.reason)
