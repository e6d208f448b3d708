"""Nothing leaves the machine unless the user configures a remote endpoint."""

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_pipeline.cli import app


@pytest.mark.slow
def test_a_default_transcribe_and_score_run_opens_no_network_connection(
    tmp_path: Path, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # the default itself must stay local
    attempts: list[object] = []
    local_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError(f"network connection to {address} in a default run")
        local_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded)
    runner, store = CliRunner(), str(tmp_path / "qa.sqlite")
    audio = str(seeds / "audio" / "en04_rude_agent.ogg")
    transcribed = runner.invoke(app, ["transcribe", audio, "--store", store, "--out", str(tmp_path / "t")])
    assert transcribed.exit_code == 0, transcribed.output
    scored = runner.invoke(app, ["score", "--store", store, "--out", str(tmp_path / "s"), "--json"])
    assert scored.exit_code == 0, scored.output
    assert attempts == []
