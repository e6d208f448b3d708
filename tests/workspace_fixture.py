"""A scored store with a sampling plan and one user per role, and the workspace server over it.

The "AI" got one verdict of en01 wrong on purpose (empathy: no, where the script says yes), so that its
agent has something to dispute and a supervisor something to overturn; every AI rationale carries a
marker that blind pages must never show."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from scored_store import REPO, fill_store

from qa_pipeline.checklist import Checklist
from qa_pipeline.models import SamplePick, User
from qa_pipeline.scoring import score_call
from qa_pipeline.server import ServerSettings, create_app
from qa_pipeline.store.database import Store
from qa_pipeline.team.accounts import add_user, make_user
from qa_pipeline.team.calibration_sessions import create_session

PASSWORD = "correct horse battery"
AI_MARK = "AI-RATIONALE"
WRONG = ("en01_billing_exemplary", "empathy")
SECRET = "test-secret-" + "x" * 40

# name -> (role, teams, agent, blind)
USERS: dict[str, tuple[str, list[str], str | None, bool]] = {
    "ada": ("admin", [], None, True),
    "sv.billing": ("supervisor", ["billing"], None, True),
    "sv.cards": ("supervisor", ["cards"], None, True),
    "ctl.ivan": ("controller", [], None, True),
    "ctl.olga": ("controller", [], None, True),
    "ctl.open": ("controller", [], None, False),
    "ag.anna": ("agent", [], "Anna Clarke", True),  # en01, team billing
    "ag.tom": ("agent", [], "Tom Baker", True),  # en02, team billing
}
EN01, EN02, EN03 = "en01_billing_exemplary", "en02_no_greeting", "en03_no_identification"
CHECKLIST = "inbound-service-en"


def workspace_store(location: str | Path) -> tuple[Store, dict[str, Checklist]]:
    store = Store(location)
    checklists = fill_store(store, changes={WRONG: "no"}, with_text=True)
    for card in list(store.scorecards()):
        verdicts = [v.model_copy(update={"rationale": f"{AI_MARK} {v.item_id}"}) for v in card.verdicts]
        checklist = checklists[card.checklist_id]
        store.save_scorecard(f"card-{card.call_id}", score_call(checklist, card.call_id, verdicts))
    picks = [
        SamplePick(
            call_id=EN01,
            checklist_id=CHECKLIST,
            kind="random",
            reasons=[],
            reviewers=["ctl.ivan", "ctl.olga", "ctl.open"],
        ),
        SamplePick(
            call_id=EN02,
            checklist_id=CHECKLIST,
            kind="random",
            reasons=[],
            reviewers=["ctl.ivan", "ctl.olga"],
        ),
        SamplePick(
            call_id=EN03,
            checklist_id=CHECKLIST,
            kind="risk",
            reasons=["critical fail"],
            reviewers=["ctl.ivan"],
        ),
    ]
    store.save_sample("2026-10-seed0", picks)
    for name, (role, teams, agent, blind) in USERS.items():
        add_user(store, make_user(name, role, teams=teams, agent=agent, blind=blind), PASSWORD)  # type: ignore[arg-type]
    supervisor = store.user_with_hash("sv.billing")
    assert supervisor is not None
    create_session(
        store,
        checklists,
        supervisor[0],
        name="October billing",
        calls=[(EN01, CHECKLIST), (EN02, CHECKLIST)],
        controllers=["ctl.ivan", "ctl.olga"],
    )
    return store, checklists


def user_named(store: Store, name: str) -> User:
    found = store.user_with_hash(name)
    assert found is not None, f"no user {name}"
    return found[0]


def workspace_app(store: Store, **settings: object) -> FastAPI:
    return create_app(
        ServerSettings(store=store.url, checklists=[REPO / "checklists"], secret_key=SECRET, **settings)  # type: ignore[arg-type]
    )


def page_csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def signed_in(app: FastAPI, name: str | None) -> tuple[TestClient, str]:
    """A client signed in through the real sign-in form (None: anonymous), and its CSRF token."""
    client = TestClient(app, follow_redirects=False)
    token = page_csrf(client.get("/login").text)
    if name is None:
        return client, token
    reply = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"})
    assert reply.status_code == 303, reply.text
    me = client.get("/api/me").json()
    return client, me["csrf_token"]
