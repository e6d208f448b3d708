"""Several workers on one store, and runs killed anywhere: on a real PostgreSQL server and on SQLite."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import fresh_database

from qa_pipeline.models import Scorecard, Transcript
from qa_pipeline.store.database import Store, claims_table, scorecards_table, transcripts_table
from qa_pipeline.store.workers import WorkerId, this_worker

TINY = ["--whisper-model", "bundled:tiny.en", "--language", "en", "--device", "cpu"]
SMALL_JUDGE = ["--backend", "llama", "--model", "bundled:smollm2"]
CALLS = ["en03_no_identification", "en04_rude_agent", "en07_hold_no_permission", "en08_prompt_injection"]


@pytest.fixture
def calls(tmp_path: Path, seeds: Path) -> Path:
    folder = tmp_path / "calls"
    folder.mkdir()
    for name in CALLS:
        shutil.copy(seeds / "audio" / f"{name}.ogg", folder / f"{name}.ogg")
    return folder


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "qa_pipeline", *args]


def test_a_claim_is_taken_once_and_only_from_dead_or_expired_holders(store_url: str) -> None:
    store = Store(store_url)
    assert store.claim("transcribe", "k1") and store.claim("transcribe", "k1")  # mine, taken again
    me = this_worker()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    later = datetime.now(UTC) + timedelta(hours=1)
    here = (me.host, me.boot, me.pid_namespace)
    holders = {
        "alive": (str(WorkerId(*here, os.getppid(), "a1")), later),  # a live process on this machine
        "dead": (str(WorkerId(*here, int(dead.stdout), "d1")), later),  # its process has exited
        "remote": (str(WorkerId("other-machine", "b", "pid:[1]", 1234, "r1")), later),  # its lease decides
        "expired": (
            str(WorkerId("other-machine", "b", "pid:[1]", 1234, "r1")),
            datetime.now(UTC) - timedelta(seconds=1),
        ),
    }
    with store.engine.begin() as conn:
        for key, (worker, expires) in holders.items():
            conn.execute(
                sa.insert(claims_table).values(stage="score", work_key=key, worker=worker, expires_at=expires)
            )
    taken = {key: bool(store.claim("score", key)) for key in holders}
    assert taken == {"alive": False, "dead": True, "remote": False, "expired": True}
    store.release("score", "dead")
    assert store.claim("score", "dead")


def test_a_second_writer_on_sqlite_is_refused_with_a_clear_message(tmp_path: Path, calls: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    with store.exclusive_writer():
        run = subprocess.run(
            cli(
                "transcribe",
                str(calls),
                "--store",
                str(tmp_path / "qa.sqlite"),
                "--out",
                str(tmp_path),
                *TINY,
            ),
            capture_output=True,
            text=True,
        )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    message = " ".join(run.stderr.split())
    assert "another qa-pipeline run" in message and "one writer at a time" in message


def test_two_workers_share_a_run_on_postgresql(postgres: str, tmp_path: Path, calls: Path) -> None:
    url = fresh_database(postgres, "two_workers")
    workers = [
        subprocess.Popen(
            cli("transcribe", str(calls), "--store", url, "--out", str(tmp_path / "out"), "--json", *TINY),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(2)
    ]
    reports = [json.loads(worker.communicate(timeout=600)[0]) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0]
    transcribed = [
        r["call_id"] for report in reports for r in report["results"] if r["status"] == "transcribed"
    ]
    assert sorted(transcribed) == sorted(CALLS)  # each call transcribed by exactly one worker
    store = Store(url)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(transcripts_table)).scalar() == len(CALLS)
        assert conn.execute(sa.select(sa.func.count()).select_from(claims_table)).scalar() == 0


def kill_at_random_points(command: list[str], out: Path, rng: random.Random, kills: int) -> list[int]:
    """Runs the command `kills` times and kills it with SIGKILL at a random point of its work: once a
    random number of new results is written (0 = while it loads models or works on its first call), and
    a random 0-3 s later (between calls, or inside one). Returns how many results there were at each kill."""
    written = []
    for _ in range(kills):
        before = len(list(out.glob("*.json")))
        target = before + rng.randrange(0, max(1, len(CALLS) - before))
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while (
            len(list(out.glob("*.json"))) < target and process.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 3.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        written.append(len(list(out.glob("*.json"))))
    return written


@pytest.mark.slow
def test_runs_killed_anywhere_end_with_every_call_done_once(
    store_url: str, tmp_path: Path, calls: Path
) -> None:
    rng = random.Random(7)
    out = tmp_path / "out"
    transcribe = cli("transcribe", str(calls), "--store", store_url, "--out", str(out / "t"), *TINY)
    score = cli("score", "--store", store_url, "--out", str(out / "s"), *SMALL_JUDGE)
    for command, folder in ((transcribe, out / "t"), (score, out / "s")):
        folder.mkdir(parents=True, exist_ok=True)
        written = kill_at_random_points(command, folder, rng, 3)
        print(f"{command[3]}: results written when each of 3 kills landed: {written} of {len(CALLS)}")
        assert any(0 < n < len(CALLS) for n in written)  # at least one kill landed mid-batch
    for command in (transcribe, score):  # then run to the end
        finished = subprocess.run([*command, "--json"], capture_output=True, text=True)
        assert finished.returncode == 0, finished.stderr[-2000:]
    store = Store(store_url)
    with store.engine.connect() as conn:
        for table in (transcripts_table, scorecards_table):
            rows = conn.execute(sa.select(table.c.call_id, sa.func.count()).group_by(table.c.call_id)).all()
            assert sorted(rows) == [(call, 1) for call in sorted(CALLS)]  # once each, no duplicate
        assert conn.execute(sa.select(sa.func.count()).select_from(claims_table)).scalar() == 0
    for transcript in store.transcripts():
        written = Transcript.model_validate_json((out / "t" / f"{transcript.call_id}.json").read_text())
        assert written == transcript
    for card in store.scorecards():
        assert Scorecard.model_validate_json((out / "s" / f"{card.call_id}.json").read_text()) == card
    assert not list(out.rglob(".*.tmp"))
