"""The JSON API: the same actions as the pages, for scripts and other systems (OpenAPI at
/api/openapi.json). Sign in with POST /api/login; send the returned CSRF token as X-CSRF-Token with every
POST, beside the session cookie."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from qa_pipeline.models import CalibrationSession, CoachingNote, Dispute, Role, User
from qa_pipeline.server.context import ApiUser, State
from qa_pipeline.server.security import CSRF_HEADER, check_csrf, csrf_token, start_session
from qa_pipeline.store.database import ReviewImport
from qa_pipeline.team.access import require, visible_records
from qa_pipeline.team.accounts import add_user, authenticate, make_user
from qa_pipeline.team.calibration_sessions import (
    SessionResult,
    create_session,
    session_result,
    visible_sessions,
)
from qa_pipeline.team.call_view import CallView, call_view
from qa_pipeline.team.coaching import (
    CoachingView,
    acknowledge_coaching_note,
    add_coaching_note,
    coachable_agents,
    coaching_view,
)
from qa_pipeline.team.disputes import acknowledge, decide_dispute, raise_dispute, visible_disputes
from qa_pipeline.team.reviewing import QueueEntry, review_queue, submit_review

router = APIRouter(prefix="/api", tags=["workspace"])
CsrfHeader = Header(default=None, alias=CSRF_HEADER)


class LoginRequest(BaseModel):
    name: str
    password: str


class SessionInfo(BaseModel):
    user: User
    csrf_token: str


class CallSummary(BaseModel):
    call_id: str
    agent: str | None
    team: str | None
    date: str | None


class ReviewRequest(BaseModel):
    checklist_id: str
    answers: dict[str, str]
    comments: dict[str, str] = Field(default_factory=dict)


class DisputeRequest(BaseModel):
    checklist_id: str
    item_id: str
    reason: str


class AcknowledgeRequest(BaseModel):
    checklist_id: str


class DecisionRequest(BaseModel):
    outcome: Literal["upheld", "overturned"]
    comment: str
    answer: str | None = None


class NewSession(BaseModel):
    name: str
    calls: list[tuple[str, str]] = Field(description="(call id, checklist id) pairs")
    controllers: list[str]


class NewNote(BaseModel):
    text: str
    items: list[str] = Field(default_factory=list)


class NewUser(BaseModel):
    name: str
    role: Role
    password: str
    teams: list[str] = Field(default_factory=list)
    agent: str | None = None
    blind: bool = True
    language: Literal["en", "ru"] = "en"


@router.post("/login")
async def api_login(request: Request, body: LoginRequest, state: State) -> SessionInfo:
    """No CSRF token yet: the reply carries the session's."""
    from fastapi import HTTPException

    keys = (f"name:{body.name.lower()}", f"address:{request.client.host if request.client else '?'}")
    wait = state.limiter.blocked(*keys)
    if wait:
        raise HTTPException(
            429, detail="too many failed sign-ins", headers={"Retry-After": str(int(wait) + 1)}
        )
    found = await run_in_threadpool(authenticate, state.store, body.name, body.password)
    if found is None:
        state.limiter.failed(*keys)
        raise HTTPException(401, detail="wrong name or password")
    start_session(request, *found)
    return SessionInfo(user=found[0], csrf_token=csrf_token(request))


@router.post("/logout")
def api_logout(request: Request, user: ApiUser, token: str | None = CsrfHeader) -> dict[str, bool]:
    check_csrf(request, token)
    request.session.clear()
    return {"signed_out": True}


@router.get("/me")
def me(request: Request, user: ApiUser) -> SessionInfo:
    return SessionInfo(user=user, csrf_token=csrf_token(request))


@router.get("/queue")
def queue(user: ApiUser, state: State) -> list[QueueEntry]:
    return review_queue(state.store, user, state.checklists)


@router.get("/calls")
def calls(user: ApiUser, state: State) -> list[CallSummary]:
    return [
        CallSummary(call_id=r.call_id, agent=r.metadata.agent, team=r.metadata.team, date=r.metadata.date)
        for r in visible_records(state.store, user)
    ]


@router.get("/calls/{call_id}")
def call(call_id: str, user: ApiUser, state: State, checklist: str | None = None) -> CallView:
    """A blind controller's reply has no AI answers, rationales, evidence or totals."""
    return call_view(state.store, state.checklists, user, call_id, checklist)


@router.post("/calls/{call_id}/reviews")
def post_review(
    request: Request,
    call_id: str,
    body: ReviewRequest,
    user: ApiUser,
    state: State,
    token: str | None = CsrfHeader,
) -> ReviewImport:
    check_csrf(request, token)
    return submit_review(
        state.store,
        state.checklists,
        user,
        call_id=call_id,
        checklist_id=body.checklist_id,
        answers=body.answers,
        comments=body.comments,
    )


@router.post("/calls/{call_id}/disputes")
def post_dispute(
    request: Request,
    call_id: str,
    body: DisputeRequest,
    user: ApiUser,
    state: State,
    token: str | None = CsrfHeader,
) -> Dispute:
    check_csrf(request, token)
    return raise_dispute(
        state.store,
        state.checklists,
        user,
        call_id=call_id,
        checklist_id=body.checklist_id,
        item_id=body.item_id,
        reason=body.reason,
    )


@router.post("/calls/{call_id}/acknowledge")
def post_acknowledge(
    request: Request,
    call_id: str,
    body: AcknowledgeRequest,
    user: ApiUser,
    state: State,
    token: str | None = CsrfHeader,
) -> dict[str, bool]:
    check_csrf(request, token)
    acknowledge(state.store, state.checklists, user, call_id=call_id, checklist_id=body.checklist_id)
    return {"acknowledged": True}


@router.get("/disputes")
def disputes(
    user: ApiUser, state: State, status: Literal["open", "upheld", "overturned"] | None = None
) -> list[Dispute]:
    require(user, "agent", "supervisor", "admin")
    return visible_disputes(state.store, user, status)


@router.post("/disputes/{dispute_id}/decision")
def post_decision(
    request: Request,
    dispute_id: int,
    body: DecisionRequest,
    user: ApiUser,
    state: State,
    token: str | None = CsrfHeader,
) -> Dispute:
    check_csrf(request, token)
    return decide_dispute(
        state.store,
        state.checklists,
        user,
        dispute_id,
        outcome=body.outcome,
        comment=body.comment,
        answer=body.answer,
    )


@router.get("/calibration")
def calibration_sessions(user: ApiUser, state: State) -> list[CalibrationSession]:
    return visible_sessions(state.store, user)


@router.post("/calibration", status_code=201)
def post_calibration_session(
    request: Request, body: NewSession, user: ApiUser, state: State, token: str | None = CsrfHeader
) -> CalibrationSession:
    check_csrf(request, token)
    return create_session(
        state.store, state.checklists, user, name=body.name, calls=body.calls, controllers=body.controllers
    )


@router.get("/calibration/{session_id}")
def calibration_session(session_id: int, user: ApiUser, state: State) -> SessionResult:
    """Agreement across the session's controllers per item, each one's deviation, the AI beside them."""
    return session_result(state.store, state.checklists, user, session_id)


@router.get("/coaching")
def coaching_agents(user: ApiUser, state: State) -> list[str]:
    return coachable_agents(state.store, user)


@router.get("/coaching/{agent}")
def coaching(agent: str, user: ApiUser, state: State) -> CoachingView:
    """The items an agent fails most, with clips, and the coaching notes."""
    return coaching_view(state.store, state.checklists, user, agent)


@router.post("/coaching/{agent}/notes", status_code=201)
def post_coaching_note(
    request: Request, agent: str, body: NewNote, user: ApiUser, state: State, token: str | None = CsrfHeader
) -> CoachingNote:
    check_csrf(request, token)
    return add_coaching_note(
        state.store, state.checklists, user, agent=agent, text=body.text, items=body.items
    )


@router.post("/coaching/notes/{note_id}/acknowledge")
def post_coaching_acknowledgement(
    request: Request, note_id: int, user: ApiUser, state: State, token: str | None = CsrfHeader
) -> dict[str, bool]:
    check_csrf(request, token)
    acknowledge_coaching_note(state.store, user, note_id)
    return {"acknowledged": True}


@router.get("/evaluate")
def gate_reports(user: ApiUser, state: State) -> list[dict[str, Any]]:
    """The regression gate's reports (qa-pipeline evaluate), newest first."""
    require(user, "supervisor", "admin")
    return state.store.gate_reports()


@router.get("/users")
def users(user: ApiUser, state: State) -> list[User]:
    require(user, "admin")
    return state.store.users()


@router.post("/users", status_code=201)
def post_user(
    request: Request, body: NewUser, user: ApiUser, state: State, token: str | None = CsrfHeader
) -> User:
    check_csrf(request, token)
    require(user, "admin")
    new = make_user(
        body.name, body.role, teams=body.teams, agent=body.agent, blind=body.blind, language=body.language
    )
    add_user(state.store, new, body.password)
    return new
