"""Agents' disputes end as people's answers: an overturn is an override and a human review, an uphold a
human review; both are counted per item in the trust map's reasons and make the item a risk pick."""

from __future__ import annotations

import pytest
from workspace_fixture import CHECKLIST, EN01, EN02, user_named, workspace_store

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.calibration import TrustRule
from qa_pipeline.control.workflow import agreement_report, plan_review
from qa_pipeline.errors import ConfigError
from qa_pipeline.store.database import Store
from qa_pipeline.team.access import NotAllowed, NotVisible
from qa_pipeline.team.disputes import decide_dispute, effective_scorecard, raise_dispute


@pytest.fixture
def scored(store_url: str) -> tuple[Store, dict[str, Checklist]]:
    """On SQLite and on a real PostgreSQL server: the workspace serves either."""
    return workspace_store(store_url)


def _empathy_item(store: Store, checklists: dict[str, Checklist]):  # type: ignore[no-untyped-def]
    report = agreement_report(store, checklists, rule=TrustRule(min_reviews=1), reps=50)
    return next(i for i in report.items if i.item_id == "empathy")


def test_an_overturned_dispute_becomes_an_override_a_human_answer_and_a_reason(
    scored: tuple[Store, dict[str, Checklist]],
) -> None:
    store, checklists = scored
    anna, supervisor = user_named(store, "ag.anna"), user_named(store, "sv.billing")
    assert effective_scorecard(store, checklists, EN01, CHECKLIST).total is not None
    before = effective_scorecard(store, checklists, EN01, CHECKLIST)
    dispute = raise_dispute(
        store,
        checklists,
        anna,
        call_id=EN01,
        checklist_id=CHECKLIST,
        item_id="empathy",
        reason="I said I was sorry to hear that right at the start",
    )
    assert dispute.disputed_answer == "no" and dispute.status == "open"
    decided = decide_dispute(
        store, checklists, supervisor, dispute.id or 0, outcome="overturned", comment="she did", answer="yes"
    )
    assert decided.status == "overturned" and decided.answer == "yes"
    [override] = store.overrides()
    assert (override.call_id, override.item_id, override.ai_answer, override.answer) == (
        EN01,
        "empathy",
        "no",
        "yes",
    )
    [review] = [r for r in store.human_reviews() if r.reviewer == "sv.billing"]
    assert (review.item_id, review.answer, review.source) == ("empathy", "yes", f"dispute {dispute.id}")
    after = effective_scorecard(store, checklists, EN01, CHECKLIST)
    assert after.total is not None and before.total is not None and after.total > before.total
    item = _empathy_item(store, checklists)
    assert (item.disputes, item.disputes_overturned, item.overrides) == (1, 1, 1)
    assert "agents disputed it 1 times, 1 overturned" in item.trust.reason
    # the supervisor's answer disagrees with the AI's: agreement on the item is measured from it
    assert item.ai_human.n == 1 and item.ai_human.agreement.value == 0.0
    with pytest.raises(ConfigError, match="already decided"):
        decide_dispute(
            store, checklists, supervisor, dispute.id or 0, outcome="upheld", comment="changed my mind"
        )


def test_an_upheld_dispute_is_a_person_confirming_the_ai(scored: tuple[Store, dict[str, Checklist]]) -> None:
    store, checklists = scored
    tom, supervisor = user_named(store, "ag.tom"), user_named(store, "sv.billing")
    dispute = raise_dispute(
        store,
        checklists,
        tom,
        call_id=EN02,
        checklist_id=CHECKLIST,
        item_id="greeting",
        reason="the line was noisy, I did greet",
    )
    with pytest.raises(ConfigError, match="nothing to override"):
        decide_dispute(
            store, checklists, supervisor, dispute.id or 0, outcome="overturned", comment="x" * 5, answer="no"
        )
    decide_dispute(
        store, checklists, supervisor, dispute.id or 0, outcome="upheld", comment="no greeting heard"
    )
    assert store.overrides() == []
    [review] = store.human_reviews()
    assert (review.call_id, review.item_id, review.answer) == (EN02, "greeting", "no")
    assert [d.status for d in store.disputes()] == ["upheld"]


def test_who_may_raise_and_decide(scored: tuple[Store, dict[str, Checklist]]) -> None:
    store, checklists = scored
    with pytest.raises(NotVisible):  # another agent's call
        raise_dispute(
            store,
            checklists,
            user_named(store, "ag.tom"),
            call_id=EN01,
            checklist_id=CHECKLIST,
            item_id="empathy",
            reason="not my call, but let me try",
        )
    with pytest.raises(NotAllowed):  # a controller does not dispute
        raise_dispute(
            store,
            checklists,
            user_named(store, "ctl.ivan"),
            call_id=EN01,
            checklist_id=CHECKLIST,
            item_id="empathy",
            reason="controllers review instead",
        )
    with pytest.raises(ConfigError, match="say why"):
        raise_dispute(
            store,
            checklists,
            user_named(store, "ag.anna"),
            call_id=EN01,
            checklist_id=CHECKLIST,
            item_id="empathy",
            reason="wrong",
        )
    dispute = raise_dispute(
        store,
        checklists,
        user_named(store, "ag.anna"),
        call_id=EN01,
        checklist_id=CHECKLIST,
        item_id="empathy",
        reason="I apologised at the start",
    )
    with pytest.raises(NotVisible):  # a supervisor of another team
        decide_dispute(
            store,
            checklists,
            user_named(store, "sv.cards"),
            dispute.id or 0,
            outcome="upheld",
            comment="fine",
        )
    with pytest.raises(NotAllowed):  # the agent deciding their own dispute
        decide_dispute(
            store,
            checklists,
            user_named(store, "ag.anna"),
            dispute.id or 0,
            outcome="overturned",
            comment="obviously",
            answer="yes",
        )
    assert store.overrides() == [] and [d.status for d in store.disputes()] == ["open"]


def test_disputed_items_become_risk_picks(scored: tuple[Store, dict[str, Checklist]]) -> None:
    store, checklists = scored
    raise_dispute(
        store,
        checklists,
        user_named(store, "ag.anna"),
        call_id=EN01,
        checklist_id=CHECKLIST,
        item_id="empathy",
        reason="I apologised at the start",
    )
    plan = plan_review(store, checklists, controllers=["ctl.ivan"], size=1, risk_picks=20, period="2026-10")
    reasons = [reason for pick in plan.picks for reason in pick.reasons]
    assert any(reason.startswith("disputed by agents: ") and "empathy (1)" in reason for reason in reasons)
    # only for calls of the checklist the dispute was about
    other = {p.call_id for p in plan.picks if any("disputed" in r for r in p.reasons)}
    assert other and all(call.startswith("en") for call in other)
