"""Workers under faults, on a real PostgreSQL server: leases renewed while work goes on, workers that look
alike (one host name, one PID) or judge with other models sharing the work without doing it twice, and a
run whose calls are held by a worker that stopped failing and naming them. Each worker is its own process
(tests/claims_worker.py) scoring with a rules-only checklist, so the claims, not a model, are under test."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import fresh_database, typed_transcript

from qa_pipeline.models import AudioInfo, Call
from qa_pipeline.store.database import Store, claims_table, scorecards_table
from qa_pipeline.store.workers import WorkerId, holder_is_dead, this_worker

WORKER = Path(__file__).with_name("claims_worker.py")
CHECKLIST = Path(__file__).parents[1] / "benchmarks" / "scale-checklists" / "rules-en.yaml"
CALLS = [f"call{i:02d}" for i in range(8)]


def stored_calls(url: str) -> Store:
    store = Store(url)
    for index, call_id in enumerate(CALLS):
        sha = f"{index:064d}"
        transcript = typed_transcript(
            ("agent", "Hello, thank you for contacting us. May I have your account number?"),
            ("customer", "It is on the letter."),
            ("agent", "I understand. Is there anything else? Have a nice day."),
        ).model_copy(update={"call_id": call_id, "audio_sha256": sha})
        call = Call(
            call_id=call_id,
            audio_path=f"/calls/{call_id}.wav",
            audio=AudioInfo(duration=10, sample_rate=8000, channels=2, codec="pcm_s16le", sha256=sha),
        )
        store.save_transcript(f"key-{call_id}", call, transcript)
    return store


def worker(url: str, out: Path, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, str(WORKER), url, str(CHECKLIST), str(out), *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> tuple[int, list[dict[str, object]], str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, json.loads(out) if out.strip() else [], err


def scorecard_rows(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(conn.execute(sa.select(scorecards_table.c.call_id)).scalars())


@pytest.fixture
def url(postgres: str, request: pytest.FixtureRequest) -> str:
    return fresh_database(postgres, f"c{abs(hash(request.node.name)) % 10**8}")


def test_liveness_is_judged_only_within_one_boot_and_pid_namespace() -> None:
    me = this_worker()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead_here = WorkerId(me.host, me.boot, me.pid_namespace, int(gone.stdout), "a1b2c3")
    assert holder_is_dead(str(dead_here))
    assert holder_is_dead(str(WorkerId(me.host, me.boot, me.pid_namespace, me.pid, "0ther0")))  # our PID now
    other_container = WorkerId(me.host, me.boot, "pid:[1]", int(gone.stdout), "a1b2c3")
    other_machine = WorkerId(me.host, "another-boot", me.pid_namespace, int(gone.stdout), "a1b2c3")
    assert not holder_is_dead(str(other_container)) and not holder_is_dead(str(other_machine))
    assert not holder_is_dead(f"{me.host}:{int(gone.stdout)}")  # an older id form: its lease decides
    assert str(me) != str(WorkerId(me.host, me.boot, me.pid_namespace, me.pid, "0ther0"))


def test_a_lease_is_renewed_past_its_first_expiry(url: str) -> None:
    store = Store(url, lease_seconds=1.5, heartbeat_seconds=0.3)
    assert store.claim("score", "call00:scale-rules-en")
    with store.engine.connect() as conn:
        first = conn.execute(sa.select(claims_table.c.expires_at)).scalar_one()
    time.sleep(3.5)  # past the first expiry: only the heartbeat keeps it
    other = subprocess.run(
        [sys.executable, "-c", "from qa_pipeline.store.database import Store; "
         f"print(bool(Store({url!r}).claim('score', 'call00:scale-rules-en')))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert other.stdout.strip() == "False"
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(claims_table.c.expires_at)).scalar_one() > first + timedelta(seconds=1)
    store.close()


def test_workers_with_one_host_name_and_pid_share_the_work_without_doubling_it(
    url: str, tmp_path: Path
) -> None:
    store = stored_calls(url)
    twins = [
        worker(
            url, tmp_path / "out", "--seconds", "0.4", "--host", "box", "--pid", "1", "--pid-namespace", ns
        )
        for ns in ("pid:[4026530001]", "pid:[4026530002]")
    ]  # two containers, one host name, both PID 1
    outcomes = [finish(twin) for twin in twins]
    assert [code for code, _, _ in outcomes] == [0, 0], [err for _, _, err in outcomes]
    scored = [r["call_id"] for _, results, _ in outcomes for r in results if r["status"] == "scored"]
    assert sorted(scored) == CALLS  # each call scored once, by one of them
    assert scorecard_rows(store) == CALLS


def test_workers_with_different_models_do_not_each_do_every_call(url: str, tmp_path: Path) -> None:
    store = stored_calls(url)
    gpu = worker(url, tmp_path / "out", "--seconds", "0.4", "--model", "large-judge")
    cpu = worker(url, tmp_path / "out", "--seconds", "0.4", "--model", "small-judge")
    outcomes = [finish(gpu), finish(cpu)]
    assert [code for code, _, _ in outcomes] == [0, 0], [err for _, _, err in outcomes]
    scored = sorted(r["call_id"] for _, results, _ in outcomes for r in results if r["status"] == "scored")
    assert scored == CALLS  # not 16: each call once, by whichever worker got it
    assert "with another model or options" in outcomes[0][2] + outcomes[1][2]  # the workers say they differ
    assert scorecard_rows(store) == CALLS


def test_calls_held_by_a_stalled_worker_fail_the_run_and_are_named(url: str, tmp_path: Path) -> None:
    store = stored_calls(url)
    stalled = WorkerId("another-machine", "its-boot", "pid:[1]", 4242, "dead00")  # killed, never renews
    with store.engine.begin() as conn:
        for call_id in ("call02", "call05"):
            conn.execute(
                sa.insert(claims_table).values(
                    stage="score",
                    work_key=f"{call_id}:scale-rules-en",
                    worker=str(stalled),
                    expires_at=datetime.now(UTC) + timedelta(minutes=10),
                )
            )
    code, results, _ = finish(worker(url, tmp_path / "out", "--heartbeat", "0.5"))
    assert code == 1
    left = {r["call_id"]: r for r in results if r["status"] == "claimed"}
    assert sorted(left) == ["call02", "call05"]
    assert all(str(stalled) in str(r["reason"]) and r["held_until"] for r in left.values())
    assert scorecard_rows(store) == sorted(set(CALLS) - {"call02", "call05"})


def test_a_worker_killed_here_is_taken_over_and_no_call_is_missing_or_doubled(
    url: str, tmp_path: Path
) -> None:
    store = stored_calls(url)
    doomed = worker(url, tmp_path / "out", "--seconds", "30")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until it holds a claim
        with store.engine.connect() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(claims_table)).scalar():
                break
        time.sleep(0.2)
    doomed.kill()
    doomed.wait()
    code, results, err = finish(worker(url, tmp_path / "out", "--heartbeat", "0.5"))
    assert code == 0, err
    assert sorted(r["call_id"] for r in results if r["status"] == "scored") == CALLS
    assert scorecard_rows(store) == CALLS
