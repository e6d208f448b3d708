"""The workspace's pages: plain HTML forms that work without JavaScript; the script only adds
click-to-play on transcript lines and evidence. Each route checks the user and calls the library."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from qa_pipeline.models import Role, User
from qa_pipeline.server.context import PageUser, State
from qa_pipeline.server.rendering import render
from qa_pipeline.server.security import CSRF_FIELD, check_csrf, start_session
from qa_pipeline.team.access import NotVisible, require, visible_record, visible_records
from qa_pipeline.team.accounts import add_user, authenticate, make_user
from qa_pipeline.team.calibration_sessions import create_session, session_result, visible_sessions
from qa_pipeline.team.call_view import call_view
from qa_pipeline.team.coaching import (
    acknowledge_coaching_note,
    add_coaching_note,
    coachable_agents,
    coaching_view,
)
from qa_pipeline.team.disputes import acknowledge, decide_dispute, raise_dispute, visible_disputes
from qa_pipeline.team.reviewing import review_queue, submit_review

router = APIRouter(include_in_schema=False)
HOME = {"controller": "/queue", "agent": "/my", "supervisor": "/disputes", "admin": "/users"}


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _form_text(form: dict[str, object], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _checked_form(request: Request) -> dict[str, object]:
    form: dict[str, object] = dict(await request.form())
    check_csrf(request, _form_text(form, CSRF_FIELD))
    return form


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html.j2", None, next=_local(next))


@router.post("/login")
async def login(request: Request, state: State) -> Response:
    form = await _checked_form(request)
    name, password = _form_text(form, "name").strip(), _form_text(form, "password")
    next_url = _local(_form_text(form, "next") or "/")
    keys = (f"name:{name.lower()}", f"address:{request.client.host if request.client else '?'}")
    wait = state.limiter.blocked(*keys)
    if wait:
        return render(request, "login.html.j2", None, 429, next=next_url, name=name, wait=int(wait) + 1)
    found = await run_in_threadpool(authenticate, state.store, name, password)
    if found is None:
        state.limiter.failed(*keys)
        return render(request, "login.html.j2", None, 401, next=next_url, name=name, wrong=True)
    start_session(request, *found)
    return _see_other(next_url if next_url != "/" else HOME[found[0].role])


@router.post("/logout")
async def logout(request: Request) -> Response:
    await _checked_form(request)
    request.session.clear()
    return _see_other("/login")


@router.get("/")
def home(user: PageUser) -> Response:
    return _see_other(HOME[user.role])


@router.get("/queue")
def queue_page(request: Request, user: PageUser, state: State) -> Response:
    entries = review_queue(state.store, user, state.checklists)
    return render(request, "queue.html.j2", user, entries=entries)


@router.get("/my")
def my_page(request: Request, user: PageUser, state: State) -> Response:
    require(user, "agent")
    records = visible_records(state.store, user)
    cards = {
        (c.call_id, c.checklist_id): c
        for c in state.store.scorecards([r.call_id for r in records])
        if c.checklist_id in state.checklists and state.checklists[c.checklist_id].scored
    }
    disputes = visible_disputes(state.store, user)
    return render(request, "my.html.j2", user, records=records, cards=cards, disputes=disputes)


@router.get("/calls/{call_id}")
def call_page(
    request: Request,
    call_id: str,
    user: PageUser,
    state: State,
    checklist: str | None = None,
    saved: str = "",
) -> Response:
    view = call_view(state.store, state.checklists, user, call_id, checklist)
    return render(request, "call.html.j2", user, view=view, saved=saved, quote=quote)


@router.get("/calls/{call_id}/audio")
def call_audio(call_id: str, user: PageUser, state: State) -> Response:
    record = visible_record(state.store, user, call_id)
    path = Path(record.audio_path)
    if not path.is_file():
        raise NotVisible(f"the recording of {call_id} is not on this machine")
    return FileResponse(path, headers={"Cache-Control": "private, no-store"})


@router.post("/calls/{call_id}/review")
async def review(request: Request, call_id: str, user: PageUser, state: State) -> Response:
    form = await _checked_form(request)
    checklist_id = _form_text(form, "checklist_id")
    answers = {k.removeprefix("answer:"): _form_text(form, k) for k in form if k.startswith("answer:")}
    comments = {k.removeprefix("comment:"): _form_text(form, k) for k in form if k.startswith("comment:")}
    result = await run_in_threadpool(
        lambda: submit_review(
            state.store,
            state.checklists,
            user,
            call_id=call_id,
            checklist_id=checklist_id,
            answers=answers,
            comments=comments,
        )
    )
    saved = f"{result.inserted}-{result.updated}-{result.unchanged}"
    return _see_other(f"/calls/{quote(call_id)}?checklist={quote(checklist_id)}&saved={saved}")


@router.post("/calls/{call_id}/acknowledge")
async def acknowledge_page(request: Request, call_id: str, user: PageUser, state: State) -> Response:
    form = await _checked_form(request)
    checklist_id = _form_text(form, "checklist_id")
    await run_in_threadpool(
        lambda: acknowledge(state.store, state.checklists, user, call_id=call_id, checklist_id=checklist_id)
    )
    return _see_other(f"/calls/{quote(call_id)}?checklist={quote(checklist_id)}")


@router.post("/calls/{call_id}/disputes")
async def dispute_page(request: Request, call_id: str, user: PageUser, state: State) -> Response:
    form = await _checked_form(request)
    checklist_id = _form_text(form, "checklist_id")
    await run_in_threadpool(
        lambda: raise_dispute(
            state.store,
            state.checklists,
            user,
            call_id=call_id,
            checklist_id=checklist_id,
            item_id=_form_text(form, "item_id"),
            reason=_form_text(form, "reason"),
        )
    )
    return _see_other(f"/calls/{quote(call_id)}?checklist={quote(checklist_id)}")


@router.get("/disputes")
def disputes_page(request: Request, user: PageUser, state: State) -> Response:
    require(user, "supervisor", "admin")
    disputes = visible_disputes(state.store, user)
    return render(request, "disputes.html.j2", user, disputes=disputes, checklists=state.checklists)


@router.post("/disputes/{dispute_id}/decide")
async def decide_page(request: Request, dispute_id: int, user: PageUser, state: State) -> Response:
    form = await _checked_form(request)
    outcome = _form_text(form, "outcome")
    if outcome not in ("upheld", "overturned"):
        outcome = "overturned" if _form_text(form, "answer") else "upheld"
    await run_in_threadpool(
        lambda: decide_dispute(
            state.store,
            state.checklists,
            user,
            dispute_id,
            outcome=cast(Literal["upheld", "overturned"], outcome),
            comment=_form_text(form, "comment"),
            answer=_form_text(form, "answer") or None,
        )
    )
    return _see_other("/disputes")


@router.get("/calibration")
def calibration_page(request: Request, user: PageUser, state: State) -> Response:
    sessions = visible_sessions(state.store, user)
    records = visible_records(state.store, user)
    scored = [(c.call_id, c.checklist_id) for c in state.store.scorecards([r.call_id for r in records])]
    controllers = [u.name for u in state.store.users() if u.role == "controller"]
    return render(
        request, "calibration.html.j2", user, sessions=sessions, scored=scored, controllers=controllers
    )


@router.post("/calibration")
async def create_calibration_page(request: Request, user: PageUser, state: State) -> Response:
    require(user, "supervisor", "admin")
    form = await request.form()
    check_csrf(request, _form_text(dict(form), CSRF_FIELD))
    calls = [tuple(str(v).split("|", 1)) for v in form.getlist("call") if "|" in str(v)]
    controllers = [str(v) for v in form.getlist("controller")]
    session = await run_in_threadpool(
        lambda: create_session(
            state.store,
            state.checklists,
            user,
            name=_form_text(dict(form), "name"),
            calls=[(c[0], c[1]) for c in calls],
            controllers=controllers,
        )
    )
    return _see_other(f"/calibration/{session.id}")


@router.get("/calibration/{session_id}")
def calibration_session_page(request: Request, session_id: int, user: PageUser, state: State) -> Response:
    result = session_result(state.store, state.checklists, user, session_id)
    return render(request, "calibration_session.html.j2", user, result=result)


@router.get("/coaching")
def coaching_list_page(request: Request, user: PageUser, state: State) -> Response:
    agents = coachable_agents(state.store, user)
    if user.role == "agent":
        return _see_other(f"/coaching/{quote(user.agent or '')}")
    return render(request, "coaching_list.html.j2", user, agents=agents, quote=quote)


@router.get("/coaching/{agent}")
def coaching_page(request: Request, agent: str, user: PageUser, state: State) -> Response:
    view = coaching_view(state.store, state.checklists, user, agent)
    return render(request, "coaching.html.j2", user, view=view, quote=quote)


@router.post("/coaching/{agent}/notes")
async def coaching_note_page(request: Request, agent: str, user: PageUser, state: State) -> Response:
    form = await request.form()
    check_csrf(request, _form_text(dict(form), CSRF_FIELD))
    items = [str(v) for v in form.getlist("item")]
    text = _form_text(dict(form), "text")
    await run_in_threadpool(
        lambda: add_coaching_note(state.store, state.checklists, user, agent=agent, text=text, items=items)
    )
    return _see_other(f"/coaching/{quote(agent)}")


@router.post("/coaching/notes/{note_id}/acknowledge")
async def coaching_acknowledge_page(request: Request, note_id: int, user: PageUser, state: State) -> Response:
    await _checked_form(request)
    await run_in_threadpool(acknowledge_coaching_note, state.store, user, note_id)
    return _see_other(f"/coaching/{quote(user.agent or '')}")


@router.get("/evaluate")
def gate_page(request: Request, user: PageUser, state: State) -> Response:
    """What qa-pipeline evaluate found about each change tried, newest first."""
    require(user, "supervisor", "admin")
    return render(request, "evaluate.html.j2", user, reports=state.store.gate_reports())


@router.get("/users")
def users_page(request: Request, user: PageUser, state: State) -> Response:
    require(user, "admin")
    return render(request, "users.html.j2", user, users=state.store.users())


@router.post("/users")
async def add_user_page(request: Request, user: PageUser, state: State) -> Response:
    require(user, "admin")
    form = await _checked_form(request)
    new = _user_from_form(form)
    await run_in_threadpool(add_user, state.store, new, _form_text(form, "password"))
    return _see_other("/users")


def _user_from_form(form: dict[str, object]) -> User:
    teams = [t.strip() for t in _form_text(form, "teams").split(",") if t.strip()]
    return make_user(
        _form_text(form, "name").strip(),
        cast(Role, _form_text(form, "role")),
        teams=teams,
        agent=_form_text(form, "agent").strip() or None,
        blind=_form_text(form, "blind") != "off",
        language=_form_text(form, "language") or "en",
    )


def _local(url: str) -> str:
    """Only a path on this server: a sign-in link cannot send the user elsewhere afterwards."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/"
