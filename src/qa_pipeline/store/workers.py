"""Who is working on a store: worker identities, and whether the holder of a claim is still alive.

Several workers (processes, containers, machines) may share a run on one PostgreSQL store; each claims a
call before working on it. A host name and a PID do not name a worker: two containers may share a host
name and both run as PID 1, and another machine may carry our host name. So a worker is named by host,
boot id, PID namespace, PID and a random token drawn when the process starts. Its liveness is judged
only where it can be: on the same boot and in the same PID namespace, a holder whose process is gone
(or whose PID now belongs to a process with another token) is dead and its claims are taken over at once;
anywhere else its lease decides, and a live worker keeps renewing its lease.
"""

from __future__ import annotations

import functools
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

FIELDS = 5


@dataclass(frozen=True)
class WorkerId:
    host: str
    boot: str  # the kernel's boot id: PIDs are only comparable within one boot
    pid_namespace: str  # PIDs are only comparable within one namespace (containers have their own)
    pid: int
    token: str  # drawn at start: a later process that reuses the PID is another worker

    def __str__(self) -> str:
        return "|".join((self.host, self.boot, self.pid_namespace, str(self.pid), self.token))

    @classmethod
    def parse(cls, text: str) -> WorkerId | None:
        """None for what is not a worker id of this form (such as an older `host:pid`)."""
        parts = text.split("|")
        if len(parts) != FIELDS or not parts[3].isdigit():
            return None
        return cls(parts[0], parts[1], parts[2], int(parts[3]), parts[4])

    def shares_process_table_with(self, other: WorkerId) -> bool:
        return (self.host, self.boot, self.pid_namespace) == (other.host, other.boot, other.pid_namespace)


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


@functools.cache
def _token(pid: int) -> str:
    return secrets.token_hex(6)


def this_worker() -> WorkerId:
    pid = os.getpid()  # after a fork the child is another worker, with its own token
    return WorkerId(
        host=socket.gethostname(),
        boot=_read("/proc/sys/kernel/random/boot_id") or "unknown-boot",
        pid_namespace=_pid_namespace() or "unknown-namespace",
        pid=pid,
        token=_token(pid),
    )


def worker_name() -> str:
    return str(this_worker())


def holder_is_dead(holder: str) -> bool:
    """True only when the holder is known dead: it shared our process table and its process is gone,
    or its PID is ours now. Anything unknown (another machine or container, an unreadable boot id, an
    older id form) is alive until its lease runs out."""
    other, me = WorkerId.parse(holder), this_worker()
    if (
        other is None
        or "unknown" in (other.boot + other.pid_namespace)
        or not me.shares_process_table_with(other)
    ):
        return False
    if other.pid == me.pid:
        return other.token != me.token
    try:
        os.kill(other.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False
