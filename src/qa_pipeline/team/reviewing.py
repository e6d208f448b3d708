"""A controller's review queue and the reviews they submit in the browser.

Reviews from the workspace are saved exactly as an imported review sheet's are (`HumanReview`, upserted
per call, item and reviewer), so the XLSX round trip and the browser can be mixed, and a half-finished
form saved now is finished later."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.review_sheets import parse_answer
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import HumanReview, User
from qa_pipeline.store.database import ReviewImport, Store
from qa_pipeline.team.access import NotAllowed, assigned_calls, require, visible_record

WORKSPACE_SOURCE = "workspace"


class QueueEntry(BaseModel):
    call_id: str
    checklist_id: str
    kind: str
    answered: int
    items: int

    @property
    def done(self) -> bool:
        return self.answered >= self.items


def review_queue(store: Store, user: User, checklists: dict[str, Checklist]) -> list[QueueEntry]:
    """The calls the sampling plan gives this person, unfinished first."""
    require(user, "controller", "supervisor", "admin")
    mine = assigned_calls(store, user)
    kinds: dict[tuple[str, str], str] = {
        (p.call_id, p.checklist_id): p.kind for p in store.sample_picks() if user.name in p.reviewers
    }
    for session in store.calibration_sessions():
        if user.name in session.controllers:
            kinds.update(
                {(call, checklist): f"calibration: {session.name}" for call, checklist in session.calls}
            )
    answered: dict[tuple[str, str], int] = defaultdict(int)
    for review in store.human_reviews(reviewer=user.name):
        answered[(review.call_id, review.checklist_id)] += 1
    entries = [
        QueueEntry(
            call_id=call_id,
            checklist_id=checklist_id,
            kind=kinds[(call_id, checklist_id)],
            answered=answered[(call_id, checklist_id)],
            items=len(checklists[checklist_id].items),
        )
        for call_id, checklist_id in mine
        if checklist_id in checklists
    ]
    return sorted(entries, key=lambda e: (e.done, e.call_id, e.checklist_id))


def my_reviews(store: Store, user: User, call_id: str, checklist_id: str) -> dict[str, HumanReview]:
    return {
        r.item_id: r
        for r in store.human_reviews([call_id], reviewer=user.name)
        if r.checklist_id == checklist_id
    }


def submit_review(
    store: Store,
    checklists: dict[str, Checklist],
    reviewer: User,
    *,
    call_id: str,
    checklist_id: str,
    answers: dict[str, str],
    comments: dict[str, str] | None = None,
) -> ReviewImport:
    """Save the answers given (blank ones are left for later); every answer is checked against its item,
    and N/A is refused where the item does not allow it. A controller reviews only calls given to them."""
    require(reviewer, "controller", "supervisor", "admin")
    visible_record(store, reviewer, call_id)
    if reviewer.role == "controller" and (call_id, checklist_id) not in assigned_calls(
        store, reviewer, [call_id]
    ):
        raise NotAllowed(f"{call_id} against {checklist_id} is not in your review queue")
    checklist = checklists.get(checklist_id)
    if checklist is None:
        raise ConfigError(f"checklist {checklist_id!r} is not loaded")
    comments = comments or {}
    unknown = sorted(set(answers) - {item.id for item in checklist.items})
    if unknown:
        raise ConfigError(f"not items of {checklist_id}: {', '.join(unknown)}")
    reviews, problems = [], []
    for item in checklist.items:
        raw = (answers.get(item.id) or "").strip()
        if not raw:
            continue
        parsed = parse_answer(raw, item)
        if parsed is None:
            problems.append(f"{item.id}: {raw!r} is not one of {'/'.join(map(str, item.answer_labels))}")
            continue
        reviews.append(
            HumanReview(
                call_id=call_id,
                checklist_id=checklist_id,
                item_id=item.id,
                reviewer=reviewer.name,
                answer=parsed,
                comment=(comments.get(item.id) or "").strip()[:2000],
                source=WORKSPACE_SOURCE,
            )
        )
    if problems:
        raise ConfigError("; ".join(problems))
    return store.save_reviews(reviews)
