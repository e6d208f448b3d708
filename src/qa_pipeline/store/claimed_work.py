"""Work that other workers had claimed, settled at the end of a batch stage.

A worker that finds a call claimed goes on to the next one, and comes back when it has nothing else to
do: a call the other worker finished is reported as done there; a call whose holder died on this machine
(or whose lease ran out) is taken over and done here; a call whose holder keeps renewing its lease is
waited for. A holder whose lease stops moving (another machine's worker that was killed) is given up on
after two missed heartbeats: the call is reported, with its holder and expiry, and the run fails, so
nobody takes a run with missing calls for a finished one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from qa_pipeline.store.database import Claim

logger = logging.getLogger(__name__)

T = TypeVar("T")


class MaybeClaimed(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def held_until(self) -> datetime | None: ...


R = TypeVar("R", bound=MaybeClaimed)


def held_elsewhere(claim: Claim, cache_key: str, what: str) -> str:
    """Why `what` (a call, or a call and checklist) is not done here; warns when its holder does it with
    another cache key, i.e. another model or options: workers of one run should share them."""
    differs = claim.detail is not None and claim.detail != cache_key
    if differs:
        logger.warning(
            "%s: another worker is doing it with another model or options than this one: workers of one "
            "run should share them",
            what,
        )
    until = f" until {claim.expires_at:%Y-%m-%d %H:%M:%S} UTC" if claim.expires_at else ""
    return f"held by worker {claim.holder}{until}" + (" (with another model or options)" if differs else "")


def settle_claimed(
    pending: list[tuple[T, R]],
    attempt: Callable[[T], R],
    heartbeat_seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[R]:
    """Try each (work, last result) again until it is not claimed or its holder has stalled; yields one
    final result per work item, in the order they settle."""
    poll = max(0.2, min(2.0, heartbeat_seconds / 5))
    patience = 2 * heartbeat_seconds + poll  # a live holder renews at least once in this time
    watched: dict[int, tuple[datetime | None, float]] = {
        i: (r.held_until, clock()) for i, (_, r) in enumerate(pending)
    }
    waiting = dict(enumerate(pending))
    while waiting:
        sleep(poll)
        for index, (work, _) in list(waiting.items()):
            result = attempt(work)
            if result.status != "claimed":
                del waiting[index]
                yield result
                continue
            seen, since = watched[index]
            if result.held_until != seen:  # renewed: its holder is alive
                watched[index] = (result.held_until, clock())
            elif clock() - since > patience:
                del waiting[index]
                yield result
            else:
                waiting[index] = (work, result)
