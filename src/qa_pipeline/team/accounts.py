"""Users of the workspace and their passwords.

Passwords are hashed with scrypt (memory-hard, in Python's standard library, so no native dependency);
the parameters are stored with each hash, so they can be raised later without locking anybody out. A
name that does not exist costs as much to check as a wrong password, so timing does not tell which
names exist."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from functools import cache

from pydantic import ValidationError

from qa_pipeline.errors import ConfigError
from qa_pipeline.models import Role, User
from qa_pipeline.store.database import Store

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1  # 32 MiB and about 0.1 s per check
# At most this many hashes at once: twenty people signing in together would otherwise take 640 MiB.
_HASHING = threading.BoundedSemaphore(4)
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        method, n, r, p, salt, digest = stored.split("$")
        if method != "scrypt":
            return False
        computed = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def authenticate(store: Store, name: str, password: str) -> tuple[User, str] | None:
    """The user and their stored hash (a session remembers which password it was opened with)."""
    found = store.user_with_hash(name)
    if found is None:
        verify_password(password, _dummy_hash())
        return None
    return found if verify_password(password, found[1]) else None


def make_user(
    name: str,
    role: Role,
    *,
    teams: list[str] | None = None,
    agent: str | None = None,
    blind: bool = True,
    language: str = "en",
) -> User:
    """A user whose role has what it needs: an agent their manifest name, a supervisor their teams."""
    try:
        user = User.model_validate(
            {
                "name": name,
                "role": role,
                "teams": sorted(set(teams or [])),
                "agent": agent,
                "blind": blind,
                "language": language,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"user {name!r}: {problems}") from None
    if role == "agent" and not agent:
        raise ConfigError(f"user {name!r}: an agent needs the name the manifest gives them (agent)")
    if role != "agent" and agent:
        raise ConfigError(f"user {name!r}: only an agent is tied to a manifest agent")
    if role == "supervisor" and not user.teams:
        raise ConfigError(f"user {name!r}: a supervisor needs the teams they supervise")
    return user


def remove_user(store: Store, name: str) -> None:
    """Their sessions end at their next request; their reviews, disputes and notes stay, under their name."""
    if not store.delete_user(name):
        raise ConfigError(f"no user {name!r}")


def add_user(store: Store, user: User, password: str) -> None:
    check_password(password)
    store.save_user(user, hash_password(password))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"a password needs at least {MIN_PASSWORD} characters")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    with _HASHING:
        return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=2**26, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
