"""Who may see which call, and what of it.

A call a user may not see is answered as if it did not exist (`NotVisible`, a 404 on the server), so an
agent cannot learn which call ids exist by guessing them; an action a role may never take is
`NotAllowed` (a 403)."""

from __future__ import annotations

from qa_pipeline.errors import QAPipelineError
from qa_pipeline.models import User
from qa_pipeline.store.database import CallRecord, Store


class NotVisible(QAPipelineError):
    """The call (or dispute) is not this user's to see."""


class NotAllowed(QAPipelineError):
    """This role may not do that."""


def assigned_calls(store: Store, user: User, call_ids: list[str] | None = None) -> set[tuple[str, str]]:
    """(call, checklist) pairs the sampling plan or a calibration session gives this person (among
    `call_ids`, when given)."""
    picks = store.sample_picks(call_ids)
    picked = {(p.call_id, p.checklist_id) for p in picks if user.name in p.reviewers}
    sessions = {tuple(c) for s in store.calibration_sessions() if user.name in s.controllers for c in s.calls}
    given = {(call, checklist) for call, checklist in sessions}
    return picked | (given if call_ids is None else {g for g in given if g[0] in call_ids})


def can_see(user: User, record: CallRecord, assigned: set[tuple[str, str]] | None = None) -> bool:
    if user.role == "admin":
        return True
    if user.role == "supervisor":
        return record.metadata.team is not None and record.metadata.team in user.teams
    if user.role == "agent":
        return record.metadata.agent is not None and record.metadata.agent == user.agent
    return any(call_id == record.call_id for call_id, _ in assigned or set())


def sees_ai(user: User) -> bool:
    """A blind controller scores without the AI's answers, rationales or other people's answers, so the
    human score stays an independent measurement of the AI rather than an echo of it."""
    return not (user.role == "controller" and user.blind)


def visible_record(store: Store, user: User, call_id: str) -> CallRecord:
    record = next(iter(store.calls([call_id])), None)
    assigned = assigned_calls(store, user, [call_id]) if user.role == "controller" else set()
    if record is None or not can_see(user, record, assigned):
        raise NotVisible(f"no call {call_id!r}")
    return record


def visible_records(store: Store, user: User) -> list[CallRecord]:
    """Every call this user may open, in id order."""
    if user.role == "controller":
        assigned = assigned_calls(store, user)
        return [r for r in store.calls(sorted({c for c, _ in assigned}))]
    return [r for r in store.calls() if can_see(user, r)]


def require(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise NotAllowed(f"{user.role} may not do this")
