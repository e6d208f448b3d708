"""Every route of the workspace, as anonymous and as each role, answers as it should; the attacks a
reviewer would try (forged or missing CSRF tokens, guessed call ids, forged session cookies, password
guessing, an agent deciding their own dispute) are refused; blind replies never carry the AI's answers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from workspace_fixture import (
    AI_MARK,
    CHECKLIST,
    EN01,
    EN02,
    EN03,
    PASSWORD,
    page_csrf,
    signed_in,
    workspace_app,
    workspace_store,
)

from qa_pipeline.store.database import Store

ROLES = ["anonymous", "ada", "sv.billing", "sv.cards", "ctl.ivan", "ctl.olga", "ag.anna", "ag.tom"]
ANON_PAGE, ANON_API = 303, 401
ANNA = "Anna%20Clarke"  # en01's agent, in a URL

# path -> expected status per role, in ROLES order
PAGE_GETS = {
    "/": [303, 303, 303, 303, 303, 303, 303, 303],
    "/queue": [ANON_PAGE, 200, 200, 200, 200, 200, 403, 403],
    "/my": [ANON_PAGE, 403, 403, 403, 403, 403, 200, 200],
    f"/calls/{EN01}": [ANON_PAGE, 200, 200, 404, 200, 200, 200, 404],
    f"/calls/{EN02}": [ANON_PAGE, 200, 200, 404, 200, 200, 404, 200],
    f"/calls/{EN03}": [ANON_PAGE, 200, 404, 200, 200, 404, 404, 404],
    "/calls/no-such-call": [ANON_PAGE, 404, 404, 404, 404, 404, 404, 404],
    f"/calls/{EN01}/audio": [ANON_PAGE, 200, 200, 404, 200, 200, 200, 404],
    "/disputes": [ANON_PAGE, 200, 200, 200, 403, 403, 403, 403],
    "/users": [ANON_PAGE, 200, 403, 403, 403, 403, 403, 403],
    "/calibration": [ANON_PAGE, 200, 200, 200, 403, 403, 403, 403],
    "/calibration/1": [ANON_PAGE, 200, 200, 404, 403, 403, 403, 403],
    "/coaching": [ANON_PAGE, 200, 200, 200, 403, 403, 303, 303],
    "/evaluate": [ANON_PAGE, 200, 200, 200, 403, 403, 403, 403],
    f"/coaching/{ANNA}": [ANON_PAGE, 200, 200, 404, 403, 403, 200, 404],
}
API_GETS = {
    "/api/me": [ANON_API, 200, 200, 200, 200, 200, 200, 200],
    "/api/queue": [ANON_API, 200, 200, 200, 200, 200, 403, 403],
    "/api/calls": [ANON_API, 200, 200, 200, 200, 200, 200, 200],
    f"/api/calls/{EN01}": [ANON_API, 200, 200, 404, 200, 200, 200, 404],
    f"/api/calls/{EN03}": [ANON_API, 200, 404, 200, 200, 404, 404, 404],
    "/api/disputes": [ANON_API, 200, 200, 200, 403, 403, 200, 200],
    "/api/users": [ANON_API, 200, 403, 403, 403, 403, 403, 403],
    "/api/calibration": [ANON_API, 200, 200, 200, 403, 403, 403, 403],
    "/api/calibration/1": [ANON_API, 200, 200, 404, 403, 403, 403, 403],
    "/api/coaching": [ANON_API, 200, 200, 200, 403, 403, 200, 200],
    "/api/evaluate": [ANON_API, 200, 200, 200, 403, 403, 403, 403],
    f"/api/coaching/{ANNA}": [ANON_API, 200, 200, 404, 403, 403, 200, 404],
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, FastAPI]:
    store, _ = workspace_store(tmp_path_factory.mktemp("workspace") / "qa.sqlite")
    return store, workspace_app(store)


@pytest.fixture(scope="module")
def clients(workspace: tuple[Store, FastAPI]) -> dict[str, tuple[TestClient, str]]:
    _, app = workspace
    return {role: signed_in(app, None if role == "anonymous" else role) for role in ROLES}


@pytest.mark.parametrize("path", [*PAGE_GETS, *API_GETS])
def test_every_get_route_answers_each_role_as_it_should(
    clients: dict[str, tuple[TestClient, str]], path: str
) -> None:
    expected = {**PAGE_GETS, **API_GETS}[path]
    got = [clients[role][0].get(path).status_code for role in ROLES]
    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, expected, strict=True))


def test_an_anonymous_page_request_goes_to_sign_in_and_comes_back(
    clients: dict[str, tuple[TestClient, str]],
) -> None:
    reply = clients["anonymous"][0].get(f"/calls/{EN01}")
    assert reply.headers["location"] == f"/login?next=/calls/{EN01}"


# POSTs whose body passes the access checks but fails the library's own (an unknown item, a bad name), so
# an allowed role gets 400 and nothing changes: what is tested is who gets past the door.
BAD_ITEM = {"checklist_id": CHECKLIST, "item_id": "no_such_item", "reason": "a reason long enough"}
PAGE_POSTS: dict[str, tuple[dict[str, str], list[int]]] = {
    f"/calls/{EN01}/review": (
        {"checklist_id": CHECKLIST, "answer:no_such_item": "yes"},
        [ANON_PAGE, 400, 400, 404, 400, 400, 403, 403],
    ),
    f"/calls/{EN01}/disputes": (BAD_ITEM, [ANON_PAGE, 403, 403, 403, 403, 403, 400, 404]),
    f"/calls/{EN01}/acknowledge": (
        {"checklist_id": "no-such-checklist"},
        [ANON_PAGE, 403, 403, 403, 403, 403, 404, 404],
    ),
    "/disputes/999/decide": (
        {"comment": "a comment", "outcome": "upheld"},
        [ANON_PAGE, 404, 404, 404, 403, 403, 403, 403],
    ),
    "/users": (
        {"name": "bad name!", "role": "admin", "password": "p" * 12},
        [ANON_PAGE, 400, 403, 403, 403, 403, 403, 403],
    ),
    "/calibration": (
        {"name": "one controller", "call": f"{EN01}|{CHECKLIST}", "controller": "ctl.ivan"},
        [ANON_PAGE, 400, 400, 400, 403, 403, 403, 403],
    ),
    f"/coaching/{ANNA}/notes": (
        {"text": "", "item": "no_such_item"},
        [ANON_PAGE, 400, 400, 404, 403, 403, 403, 403],
    ),
    "/coaching/notes/998/acknowledge": ({}, [ANON_PAGE, 403, 403, 403, 403, 403, 404, 404]),
}
API_POSTS: dict[str, tuple[dict[str, object], list[int]]] = {
    f"/api/calls/{EN01}/reviews": (
        {"checklist_id": CHECKLIST, "answers": {"no_such_item": "yes"}},
        [ANON_API, 400, 400, 404, 400, 400, 403, 403],
    ),
    f"/api/calls/{EN01}/disputes": (BAD_ITEM, [ANON_API, 403, 403, 403, 403, 403, 400, 404]),
    f"/api/calls/{EN01}/acknowledge": (
        {"checklist_id": "no-such-checklist"},
        [ANON_API, 403, 403, 403, 403, 403, 404, 404],
    ),
    "/api/disputes/999/decision": (
        {"comment": "a comment", "outcome": "upheld"},
        [ANON_API, 404, 404, 404, 403, 403, 403, 403],
    ),
    "/api/users": (
        {"name": "bad name!", "role": "admin", "password": "p" * 12},
        [ANON_API, 400, 403, 403, 403, 403, 403, 403],
    ),
    "/api/calibration": (
        {"name": "one controller", "calls": [[EN01, CHECKLIST]], "controllers": ["ctl.ivan"]},
        [ANON_API, 400, 400, 400, 403, 403, 403, 403],
    ),
    f"/api/coaching/{ANNA}/notes": (
        {"text": "", "items": ["no_such_item"]},
        [ANON_API, 400, 400, 404, 403, 403, 403, 403],
    ),
    "/api/coaching/notes/998/acknowledge": ({}, [ANON_API, 403, 403, 403, 403, 403, 404, 404]),
}


@pytest.mark.parametrize("path", [*PAGE_POSTS, *API_POSTS])
def test_every_post_route_lets_in_only_the_roles_it_should(
    workspace: tuple[Store, FastAPI], clients: dict[str, tuple[TestClient, str]], path: str
) -> None:
    store, _ = workspace
    before = (
        store.human_reviews(),
        store.disputes(),
        store.users(),
        store.acknowledgements(),
        store.calibration_sessions(),
        store.coaching_notes(),
    )
    got = []
    for role in ROLES:
        client, token = clients[role]
        if path.startswith("/api/"):
            body, expected = API_POSTS[path]
            reply = client.post(path, json=body, headers={"X-CSRF-Token": token})
        else:
            form, expected = PAGE_POSTS[path]
            reply = client.post(path, data={**form, "csrf_token": token})
        got.append(reply.status_code)
    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, expected, strict=True))
    assert (
        store.human_reviews(),
        store.disputes(),
        store.users(),
        store.acknowledgements(),
        store.calibration_sessions(),
        store.coaching_notes(),
    ) == before


def _template(path: str) -> str:
    for name, value in (
        ("call_id", EN01),
        ("call_id", EN03),
        ("dispute_id", "999"),
        ("session_id", "1"),
        ("agent", ANNA),
        ("note_id", "998"),
    ):
        path = path.replace(f"/{value}", f"/{{{name}}}")
    return path


def test_every_route_is_in_the_access_tables() -> None:
    """A route added later without a row in these tables fails here, so none escapes the access tests."""
    from qa_pipeline.server import api, pages

    routes = {
        (method, route.path)
        for r in (api.router, pages.router)
        for route in r.routes
        for method in route.methods
    }  # type: ignore[attr-defined]
    tested = {("GET", _template(p)) for p in [*PAGE_GETS, *API_GETS]} | {("GET", "/calls/no-such-call")}
    tested |= {("POST", _template(p)) for p in [*PAGE_POSTS, *API_POSTS]}
    # sign-in and sign-out are attacked in their own tests below
    tested |= {
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("POST", "/api/login"),
        ("POST", "/api/logout"),
    }
    assert routes - tested == set()


def _review_form(token: str, **answers: str) -> dict[str, str]:
    return {"csrf_token": token, "checklist_id": CHECKLIST, **{f"answer:{k}": v for k, v in answers.items()}}


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(
    workspace: tuple[Store, FastAPI], clients: dict[str, tuple[TestClient, str]]
) -> None:
    store, _ = workspace
    client, token = clients["ctl.olga"]
    before = len(store.human_reviews())
    assert client.post(f"/calls/{EN02}/review", data=_review_form("", greeting="no")).status_code == 403
    assert client.post(f"/calls/{EN02}/review", data=_review_form("forged", greeting="no")).status_code == 403
    other = clients["ctl.ivan"][1]  # a real token, but another session's
    assert client.post(f"/calls/{EN02}/review", data=_review_form(other, greeting="no")).status_code == 403
    body = {"checklist_id": CHECKLIST, "answers": {"greeting": "no"}}
    assert client.post(f"/api/calls/{EN02}/reviews", json=body).status_code == 403
    assert (
        client.post(f"/api/calls/{EN02}/reviews", json=body, headers={"X-CSRF-Token": "x"}).status_code == 403
    )
    assert len(store.human_reviews()) == before
    assert (
        client.post(f"/api/calls/{EN02}/reviews", json=body, headers={"X-CSRF-Token": token}).status_code
        == 200
    )
    assert len(store.human_reviews()) == before + 1


def test_sign_in_itself_needs_the_page_token(workspace: tuple[Store, FastAPI]) -> None:
    """A page elsewhere cannot sign a browser in to an attacker's account (login CSRF)."""
    _, app = workspace
    client = TestClient(app, follow_redirects=False)
    reply = client.post("/login", data={"name": "ada", "password": PASSWORD, "next": "/"})
    assert reply.status_code == 403
    assert client.get("/api/me").status_code == 401


def test_a_blind_controller_never_sees_the_ai_or_another_controllers_answers(
    clients: dict[str, tuple[TestClient, str]],
) -> None:
    olga, olga_token = clients["ctl.olga"]
    reply = olga.post(
        f"/calls/{EN01}/review",
        data={**_review_form(olga_token, greeting="yes", empathy="yes"), "comment:greeting": "OLGA-COMMENT"},
    )
    assert reply.status_code == 303
    ivan = clients["ctl.ivan"][0]
    for path in (f"/calls/{EN01}", f"/api/calls/{EN01}", "/api/queue", "/queue"):
        text = ivan.get(path).text
        assert AI_MARK not in text and "OLGA-COMMENT" not in text
    view = ivan.get(f"/api/calls/{EN01}").json()
    assert view["ai_shown"] is False and view["total"] is None and view["disputes"] == []
    assert all(
        i["ai_answer"] is None and i["ai_rationale"] is None and i["ai_evidence"] == [] for i in view["items"]
    )
    assert all(i["my_answer"] is None for i in view["items"])  # Olga's answers are hers
    assert "ai-answer" not in ivan.get(f"/calls/{EN01}").text
    # ... and after submitting their own, still blind
    ivan_token = clients["ctl.ivan"][1]
    assert (
        ivan.post(f"/calls/{EN01}/review", data=_review_form(ivan_token, greeting="yes")).status_code == 303
    )
    assert AI_MARK not in ivan.get(f"/calls/{EN01}").text
    # a controller who is not blind, and a supervisor, see the AI
    open_client, _ = signed_in(ivan.app, "ctl.open")  # type: ignore[arg-type]
    assert AI_MARK in open_client.get(f"/calls/{EN01}").text
    assert AI_MARK in clients["sv.billing"][0].get(f"/calls/{EN01}").text


def test_an_agent_cannot_reach_another_agents_call_by_guessing_its_id(
    clients: dict[str, tuple[TestClient, str]],
) -> None:
    anna, token = clients["ag.anna"]
    for path in (
        f"/calls/{EN02}",
        f"/calls/{EN02}/audio",
        f"/api/calls/{EN02}",
        f"/api/calls/{EN02}?checklist={CHECKLIST}",
    ):
        assert anna.get(path).status_code == 404
    # the same reply as for a call that does not exist, so ids cannot be probed
    assert anna.get(f"/api/calls/{EN02}").json() == {"detail": f"no call {EN02!r}"}
    assert anna.get("/api/calls/zz-none").json() == {"detail": "no call 'zz-none'"}
    assert [c["call_id"] for c in anna.get("/api/calls").json()] == [EN01]
    body = {"checklist_id": CHECKLIST, "item_id": "greeting", "reason": "this is not my call at all"}
    assert (
        anna.post(f"/api/calls/{EN02}/disputes", json=body, headers={"X-CSRF-Token": token}).status_code
        == 404
    )
    ack = {"checklist_id": CHECKLIST}
    assert (
        anna.post(f"/api/calls/{EN02}/acknowledge", json=ack, headers={"X-CSRF-Token": token}).status_code
        == 404
    )


def test_nobody_talks_a_score_up_from_the_agent_seat(
    workspace: tuple[Store, FastAPI], clients: dict[str, tuple[TestClient, str]]
) -> None:
    store, _ = workspace
    anna, token = clients["ag.anna"]
    headers = {"X-CSRF-Token": token}
    # an agent cannot review their own call, override, decide a dispute or add a user
    body = {"checklist_id": CHECKLIST, "answers": {"empathy": "yes"}}
    assert anna.post(f"/api/calls/{EN01}/reviews", json=body, headers=headers).status_code == 403
    dispute = anna.post(
        f"/api/calls/{EN01}/disputes",
        json={"checklist_id": CHECKLIST, "item_id": "summary", "reason": "I did summarise the call"},
        headers=headers,
    )
    assert dispute.status_code == 200
    number = dispute.json()["id"]
    decision = {"outcome": "overturned", "comment": "trust me", "answer": "no"}
    assert anna.post(f"/api/disputes/{number}/decision", json=decision, headers=headers).status_code == 403
    new_user = {"name": "boss", "role": "admin", "password": "p" * 12}
    assert anna.post("/api/users", json=new_user, headers=headers).status_code == 403
    # a second open dispute of the same item is refused (no flooding one verdict)
    again = anna.post(
        f"/api/calls/{EN01}/disputes",
        json={"checklist_id": CHECKLIST, "item_id": "summary", "reason": "I did summarise the call"},
        headers=headers,
    )
    assert again.status_code == 400
    # the other team's supervisor cannot decide it; it stays open
    cards, cards_token = clients["sv.cards"]
    decision = {"outcome": "upheld", "comment": "looks fine"}
    assert (
        cards.post(
            f"/api/disputes/{number}/decision", json=decision, headers={"X-CSRF-Token": cards_token}
        ).status_code
        == 404
    )
    assert [d.status for d in store.disputes([EN01]) if d.id == number] == ["open"]
    assert not [o for o in store.overrides() if o.item_id == "summary"]
    # another agent does not see it
    assert number not in [d["id"] for d in clients["ag.tom"][0].get("/api/disputes").json()]


def test_a_forged_session_cookie_is_anonymous(workspace: tuple[Store, FastAPI]) -> None:
    _, app = workspace
    client, _ = signed_in(app, "ag.tom")
    cookie = client.cookies["qa_session"]
    payload, rest = cookie.split(".", 1)
    session = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert session["user"] == "ag.tom"
    forged = base64.b64encode(json.dumps({**session, "user": "ada"}).encode()).decode()
    attacker = TestClient(app, follow_redirects=False)
    attacker.cookies.set("qa_session", f"{forged}.{rest}")
    assert attacker.get("/api/me").status_code == 401
    assert attacker.get("/users").status_code == 303


def test_cookies_are_httponly_and_samesite(workspace: tuple[Store, FastAPI]) -> None:
    _, app = workspace
    client = TestClient(app, follow_redirects=False)
    header = client.get("/login").headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header


def test_password_guessing_is_stopped_even_for_the_right_password(tmp_path: Path) -> None:
    store, _ = workspace_store(tmp_path / "qa.sqlite")
    app = workspace_app(store, max_login_failures=3)
    client = TestClient(app, follow_redirects=False)
    token = page_csrf(client.get("/login").text)
    for guess in ("123456", "password", "qwerty"):
        form = {"name": "ada", "password": guess, "csrf_token": token, "next": "/"}
        assert client.post("/login", data=form).status_code == 401
    right = {"name": "ada", "password": PASSWORD, "csrf_token": token, "next": "/"}
    assert client.post("/login", data=right).status_code == 429
    assert client.post("/api/login", json={"name": "ada", "password": PASSWORD}).status_code == 429
    # another user from another address is not locked out
    other = TestClient(app, follow_redirects=False, client=("10.0.0.2", 5000))
    token = page_csrf(other.get("/login").text)
    form = {"name": "sv.billing", "password": PASSWORD, "csrf_token": token, "next": "/"}
    assert other.post("/login", data=form).status_code == 303


def test_sign_in_never_redirects_off_the_server(workspace: tuple[Store, FastAPI]) -> None:
    _, app = workspace
    client = TestClient(app, follow_redirects=False)
    token = page_csrf(client.get("/login").text)
    form = {"name": "ag.tom", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"}
    assert client.post("/login", data=form).headers["location"] == "/my"


def test_passwords_are_stored_hashed_with_scrypt(workspace: tuple[Store, FastAPI]) -> None:
    store, _ = workspace
    found = store.user_with_hash("ada")
    assert found is not None
    assert found[1].startswith("scrypt$32768$8$1$") and PASSWORD not in found[1]
    assert "password" not in json.dumps([u.model_dump() for u in store.users()])


@pytest.fixture
def anonymous(workspace: tuple[Store, FastAPI]) -> Iterator[TestClient]:
    _, app = workspace
    yield TestClient(app, follow_redirects=False)


def test_anonymous_posts_change_nothing(workspace: tuple[Store, FastAPI], anonymous: TestClient) -> None:
    store, _ = workspace
    before = (len(store.human_reviews()), len(store.disputes()), len(store.users()))
    token = page_csrf(anonymous.get("/login").text)
    assert anonymous.post(f"/calls/{EN01}/review", data=_review_form(token, greeting="no")).status_code == 303
    assert (
        anonymous.post("/users", data={"csrf_token": token, "name": "x", "role": "admin"}).status_code == 303
    )
    assert anonymous.post("/api/users", json={}, headers={"X-CSRF-Token": token}).status_code == 401
    assert (len(store.human_reviews()), len(store.disputes()), len(store.users())) == before


def test_a_new_password_or_a_removed_user_ends_their_sessions(tmp_path: Path) -> None:
    from qa_pipeline.team.accounts import add_user, make_user, remove_user

    store, _ = workspace_store(tmp_path / "qa.sqlite")
    app = workspace_app(store)
    tom, _ = signed_in(app, "ag.tom")
    sue, _ = signed_in(app, "sv.billing")
    assert tom.get("/api/me").status_code == 200 and sue.get("/api/me").status_code == 200
    add_user(store, make_user("ag.tom", "agent", agent="Tom Baker"), "a brand new password")
    assert tom.get("/api/me").status_code == 401  # the stolen cookie is worth nothing now
    remove_user(store, "sv.billing")
    assert sue.get("/disputes").status_code == 303
    assert sue.get("/api/me").status_code == 401
