"""A throwaway PostgreSQL server for tests: initdb in a temporary folder, a Unix socket only (no TCP port
is opened), stopped and deleted at the end. Needs the server binaries (Debian's `postgresql` package)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PORT = 54329  # the socket file's name; no TCP listener is started


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's versioned folder."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _as_server_user(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server as the `postgres` user there."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server(binaries: Path) -> Iterator[str]:
    """Yields a SQLAlchemy URL to a fresh database `qa`."""
    root = Path(tempfile.mkdtemp(prefix="qa-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    log = root / "server.log"
    try:
        subprocess.run(
            _as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]),
            check=True,
            capture_output=True,
        )
        options = f"-k {sockets} -p {PORT} -c listen_addresses='' -c fsync=off"
        subprocess.run(
            _as_server_user(
                [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"]
            ),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            _as_server_user(
                [str(binaries / "createdb"), "-h", str(sockets), "-p", str(PORT), "-U", "postgres", "qa"]
            ),
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@/qa?host={sockets}&port={PORT}"
    finally:
        subprocess.run(
            _as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
