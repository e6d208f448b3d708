"""What every route needs: the store, the checklists, the signed-in user (or why there is none)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from qa_pipeline.checklist import Checklist
from qa_pipeline.models import User
from qa_pipeline.server.security import LoginLimiter, signed_in_user
from qa_pipeline.store.database import Store


@dataclass
class ServerState:
    store: Store
    checklists: dict[str, Checklist]
    limiter: LoginLimiter


class SignInNeeded(Exception):
    """A page was asked for without a session: the browser goes to the sign-in page."""

    def __init__(self, path: str) -> None:
        self.path = path


def state(request: Request) -> ServerState:
    found: ServerState = request.app.state.workspace
    return found


def page_user(request: Request) -> User:
    user = signed_in_user(request, state(request).store)
    if user is None:
        raise SignInNeeded(request.url.path)
    return user


def api_user(request: Request) -> User:
    user = signed_in_user(request, state(request).store)
    if user is None:
        raise HTTPException(status_code=401, detail="sign in first (POST /api/login)")
    return user


State = Annotated[ServerState, Depends(state)]
PageUser = Annotated[User, Depends(page_user)]
ApiUser = Annotated[User, Depends(api_user)]
