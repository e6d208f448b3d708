"""Supervisor overrides: a person corrects an AI verdict, with a reason, and both answers are kept.

The AI scorecard in the store is never edited; the effective scorecard is the AI's with the overrides in
force applied and re-scored, each overridden verdict marked `source: human` and flagged `overridden`.
"""

from __future__ import annotations

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.review_sheets import parse_answer
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import ItemVerdict, Override, Scorecard
from qa_pipeline.scoring import score_call


def make_override(
    card: Scorecard, checklist: Checklist, item_id: str, answer: str, supervisor: str, comment: str
) -> Override:
    """Checked against the checklist; refused without a comment, since an unexplained change teaches
    nobody anything and cannot be audited."""
    if len(comment.strip()) < 3:
        raise ConfigError("an override needs a comment saying why (--comment)")
    if not supervisor.strip():
        raise ConfigError("an override needs the supervisor's name or id (--by)")
    try:
        item = checklist.item(item_id)
    except KeyError:
        raise ConfigError(f"{item_id!r} is not an item of checklist {checklist.id}") from None
    parsed = parse_answer(answer, item)
    if parsed is None:
        raise ConfigError(f"{answer!r} is not an answer to {item_id}: use {'/'.join(item.answer_labels)}")
    ai = next((v.answer for v in card.verdicts if v.item_id == item_id), None)
    if ai == parsed:
        raise ConfigError(
            f"the AI already answered {item_id} of {card.call_id} with {parsed!r}: nothing to override"
        )
    return Override(
        call_id=card.call_id,
        checklist_id=card.checklist_id,
        item_id=item_id,
        supervisor=supervisor.strip(),
        ai_answer=ai,
        answer=parsed,
        comment=comment.strip(),
    )


def apply_overrides(card: Scorecard, checklist: Checklist, overrides: list[Override]) -> Scorecard:
    """The scorecard people stand behind: the last override of each item wins, the total is recomputed."""
    in_force = {
        o.item_id: o for o in overrides if o.call_id == card.call_id and o.checklist_id == card.checklist_id
    }
    if not in_force:
        return card
    verdicts = []
    for verdict in card.verdicts:
        override = in_force.get(verdict.item_id)
        if override is None:
            verdicts.append(verdict)
            continue
        verdicts.append(
            ItemVerdict(
                item_id=verdict.item_id,
                answer=override.answer,
                evidence=verdict.evidence,
                rationale=f"{override.supervisor}: {override.comment} (AI answered {override.ai_answer})",
                confidence=None,
                flags=[*verdict.flags, "overridden"],
                source="human",
            )
        )
    # A supervisor who corrected the card has looked at it: its total shows again, attempt or not.
    return score_call(
        checklist,
        card.call_id,
        verdicts,
        judge=card.judge,
        manipulation=card.manipulation,
        reviewed=bool(in_force),
    )
