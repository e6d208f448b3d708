"""Agents dispute verdicts of their own scorecards; a supervisor upholds or overturns each.

A decided dispute is a person's answer to the item on that call: it is saved as a human review (the
supervisor's), and an overturn also as an override, so the decision shows in the effective scorecard,
in agreement and in the trust map. Counts per item feed the trust map's reasons and the sampling plan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.overrides import apply_overrides, make_override
from qa_pipeline.control.review_sheets import parse_answer
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import Acknowledgement, Dispute, HumanReview, Scorecard, User
from qa_pipeline.store.database import Store
from qa_pipeline.team.access import NotAllowed, NotVisible, require, visible_record

MIN_REASON = 10


class DisputeCounts(BaseModel):
    raised: int = 0
    open: int = 0
    upheld: int = 0
    overturned: int = 0


def effective_scorecard(
    store: Store, checklists: dict[str, Checklist], call_id: str, checklist_id: str
) -> Scorecard:
    card = next((c for c in store.scorecards([call_id]) if c.checklist_id == checklist_id), None)
    if card is None or checklist_id not in checklists:
        raise NotVisible(f"no scorecard of call {call_id!r} against {checklist_id!r}")
    overrides = store.overrides([call_id])
    return apply_overrides(card, checklists[checklist_id], overrides)


def raise_dispute(
    store: Store,
    checklists: dict[str, Checklist],
    agent: User,
    *,
    call_id: str,
    checklist_id: str,
    item_id: str,
    reason: str,
) -> Dispute:
    """Only the agent whose call it is may dispute it, once per item while a dispute of it is open."""
    require(agent, "agent")
    record = visible_record(store, agent, call_id)
    if checklist_id in checklists and not checklists[checklist_id].scored:
        raise NotAllowed(
            f"{checklist_id} describes the customer's side and scores nobody: nothing to dispute"
        )
    card = effective_scorecard(store, checklists, call_id, checklist_id)
    verdict = next((v for v in card.verdicts if v.item_id == item_id), None)
    if verdict is None:
        raise ConfigError(f"{item_id!r} is not an item of the scorecard of {call_id}")
    if len(reason.strip()) < MIN_REASON:
        raise ConfigError(f"say why you dispute {item_id} (at least {MIN_REASON} characters)")
    already = [
        d for d in store.disputes([call_id]) if d.item_id == item_id and d.checklist_id == checklist_id
    ]
    if any(d.status == "open" for d in already):
        raise ConfigError(f"{item_id} of {call_id} is already disputed and awaits a supervisor")
    assert record.metadata.agent is not None
    return store.add_dispute(
        Dispute(
            call_id=call_id,
            checklist_id=checklist_id,
            item_id=item_id,
            agent=record.metadata.agent,
            raised_by=agent.name,
            reason=reason.strip(),
            disputed_answer=verdict.answer,
        )
    )


def visible_disputes(store: Store, user: User, status: str | None = None) -> list[Dispute]:
    """A supervisor's are those of their teams' calls; an agent's their own; an admin's all."""
    if user.role == "controller":
        return []
    disputes = [d for d in store.disputes() if status is None or d.status == status]
    if user.role == "admin":
        return disputes
    if user.role == "agent":
        return [d for d in disputes if d.agent == user.agent]
    records = {r.call_id: r for r in store.calls(sorted({d.call_id for d in disputes}))}
    return [d for d in disputes if (r := records.get(d.call_id)) and r.metadata.team in user.teams]


def decide_dispute(
    store: Store,
    checklists: dict[str, Checklist],
    supervisor: User,
    dispute_id: int,
    *,
    outcome: Literal["upheld", "overturned"],
    comment: str,
    answer: str | None = None,
) -> Dispute:
    """Uphold (the verdict stands) or overturn (with the right answer); both need a comment."""
    require(supervisor, "supervisor", "admin")
    dispute = next((d for d in visible_disputes(store, supervisor) if d.id == dispute_id), None)
    if dispute is None:
        raise NotVisible(f"no dispute {dispute_id}")
    if dispute.status != "open":
        raise ConfigError(f"dispute {dispute_id} was already decided ({dispute.status})")
    if len(comment.strip()) < 3:
        raise ConfigError("a decision needs a comment saying why")
    checklist = checklists.get(dispute.checklist_id)
    if checklist is None:
        raise ConfigError(f"checklist {dispute.checklist_id!r} is not loaded")
    card = effective_scorecard(store, checklists, dispute.call_id, dispute.checklist_id)
    current = next(v.answer for v in card.verdicts if v.item_id == dispute.item_id)
    override = None
    if outcome == "overturned":
        if answer is None:
            raise ConfigError("overturning needs the right answer")
        ai_card = next(
            c for c in store.scorecards([dispute.call_id]) if c.checklist_id == dispute.checklist_id
        )
        override = make_override(ai_card, checklist, dispute.item_id, answer, supervisor.name, comment)
        if override.answer == current:
            raise ConfigError(f"{dispute.item_id} already stands at {current!r}: uphold instead")
        human_answer = override.answer
    else:
        if current is None:
            raise ConfigError(f"{dispute.item_id} has no answer to uphold: overturn it with one")
        human_answer = current
    parsed = parse_answer(human_answer, checklist.item(dispute.item_id))
    assert parsed is not None
    decided = dispute.model_copy(
        update={
            "status": outcome,
            "decided_by": supervisor.name,
            "decision_comment": comment.strip(),
            "answer": override.answer if override else None,
        }
    )
    review = HumanReview(
        call_id=dispute.call_id,
        checklist_id=dispute.checklist_id,
        item_id=dispute.item_id,
        reviewer=supervisor.name,
        answer=parsed,
        comment=comment.strip(),
        source=f"dispute {dispute_id}",
    )
    if not store.decide_dispute(decided, override, review):
        raise ConfigError(f"dispute {dispute_id} was decided by someone else a moment ago")
    return decided


def dispute_counts(disputes: Iterable[Dispute]) -> dict[tuple[str, str], DisputeCounts]:
    """(checklist id, item id) -> how many were raised and how they ended."""
    counts: dict[tuple[str, str], DisputeCounts] = defaultdict(DisputeCounts)
    for dispute in disputes:
        tally = counts[(dispute.checklist_id, dispute.item_id)]
        tally.raised += 1
        setattr(tally, dispute.status, getattr(tally, dispute.status) + 1)
    return dict(counts)


def acknowledge(
    store: Store, checklists: dict[str, Checklist], agent: User, *, call_id: str, checklist_id: str
) -> None:
    """The agent has read the scorecard; acknowledging twice changes nothing."""
    require(agent, "agent")
    visible_record(store, agent, call_id)
    effective_scorecard(store, checklists, call_id, checklist_id)
    assert agent.agent is not None
    store.acknowledge(Acknowledgement(call_id=call_id, checklist_id=checklist_id, agent=agent.agent))
