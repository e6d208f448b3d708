"""`qa-pipeline users add|list` and `qa-pipeline serve`, as an operator runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import free_port
from scored_store import fill_store
from typer.testing import CliRunner

from qa_pipeline.cli import app
from qa_pipeline.store.database import Store


def test_users_are_added_with_their_scope_and_listed_without_passwords(tmp_path: Path) -> None:
    store = str(tmp_path / "qa.sqlite")
    runner = CliRunner()
    args = ["users", "add", "sv.anna", "--role", "supervisor", "--team", "billing", "--team", "cards"]
    added = runner.invoke(app, [*args, "--password-stdin", "--store", store], input="a long password\n")
    assert added.exit_code == 0, added.output
    agent = ["users", "add", "ag.tom", "--role", "agent", "--agent", "Tom Baker", "--password-stdin"]
    assert runner.invoke(app, [*agent, "--store", store], input="another long one\n").exit_code == 0
    listed = json.loads(runner.invoke(app, ["users", "list", "--json", "--store", store]).stdout)
    assert [(u["name"], u["role"], u["teams"], u["agent"]) for u in listed] == [
        ("ag.tom", "agent", [], "Tom Baker"),
        ("sv.anna", "supervisor", ["billing", "cards"], None),
    ]
    assert "long" not in json.dumps(listed)
    assert len(Store(store).users()) == 2
    # refused (main() prints these as one-line errors): a short password, an agent without a manifest
    # name, a supervisor without teams
    short = runner.invoke(
        app, ["users", "add", "x.y", "--role", "admin", "--password-stdin", "--store", store], input="short\n"
    )
    assert "at least 10 characters" in str(short.exception)
    nameless = runner.invoke(
        app,
        ["users", "add", "ag.x", "--role", "agent", "--password-stdin", "--store", store],
        input="p" * 12 + "\n",
    )
    assert "manifest" in str(nameless.exception)
    teamless = runner.invoke(
        app,
        ["users", "add", "sv.x", "--role", "supervisor", "--password-stdin", "--store", store],
        input="p" * 12 + "\n",
    )
    assert "teams" in str(teamless.exception)
    assert len(Store(store).users()) == 2


def test_serve_listens_on_localhost_and_asks_for_a_sign_in(tmp_path: Path) -> None:
    path = tmp_path / "work" / "qa.sqlite"
    fill_store(Store(path))
    port = free_port()
    command = [sys.executable, "-m", "qa_pipeline", "serve", "--port", str(port), "--store", str(path)]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as reply:
                    page = reply.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        assert 'name="csrf_token"' in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=5) as reply:
            schema = json.loads(reply.read())
        assert "/api/calls/{call_id}/disputes" in schema["paths"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        _, errors = server.communicate(timeout=20)
    assert "No users yet" in errors
    key = path.parent / "server-secret"
    assert key.is_file() and key.stat().st_mode & 0o077 == 0  # the session key is its owner's alone
