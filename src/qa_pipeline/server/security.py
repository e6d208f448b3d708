"""Sessions, CSRF tokens and the login rate limit.

The session is Starlette's signed cookie (HttpOnly, SameSite=strict) holding the user's name and a CSRF
token; the user is read from the store on every request, so a changed role or a removed user takes
effect at once. Every state-changing request carries the token (a form field or the X-CSRF-Token
header) and is refused without it, whatever the cookie says."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque

from fastapi import HTTPException, Request

from qa_pipeline.models import User
from qa_pipeline.store.database import Store

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token: reload the page")


def signed_in_user(request: Request, store: Store) -> User | None:
    """The session's user while they exist and their password is the one they signed in with: removing
    a user or changing their password ends every session they had."""
    name = request.session.get("user")
    if not isinstance(name, str):
        return None
    found = store.user_with_hash(name)
    if found is None or not hmac.compare_digest(str(request.session.get("key", "")), _fingerprint(found[1])):
        request.session.clear()
        return None
    return found[0]


def start_session(request: Request, user: User, password_hash: str) -> None:
    """A new session (and token) at every sign-in, so a token seen before it is worth nothing."""
    request.session.clear()
    request.session["user"] = user.name
    request.session["key"] = _fingerprint(password_hash)
    request.session["csrf"] = secrets.token_urlsafe(32)


def _fingerprint(password_hash: str) -> str:
    """Names the password without revealing anything about it (the cookie is signed, not encrypted)."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:24]


class LoginLimiter:
    """At most `limit` failed sign-ins per name and per client address in a sliding window; a success
    does not reset the count for the address, so one valid account cannot be used to keep guessing."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> float:
        """Seconds to wait, or 0 when these keys may try again."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                failures = self._failures[key]
                while failures and now - failures[0] > self.window:
                    failures.popleft()
                if len(failures) >= self.limit:
                    wait = max(wait, self.window - (now - failures[0]))
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._failures[key].append(now)
