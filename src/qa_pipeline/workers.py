"""Who is working on a store: worker names, and whether the holder of a claim is still alive.

Several workers (processes, machines) may share a run on one PostgreSQL store; each claims a call before
working on it. A claim names its worker as `host:pid`, so a restarted run on the same machine takes over
the claims of its own dead process at once instead of waiting for them to expire; claims of another
machine's worker expire after their lease.
"""

from __future__ import annotations

import os
import socket


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_dead(holder: str) -> bool:
    """True only when the holder ran on this machine and its process is gone."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False
