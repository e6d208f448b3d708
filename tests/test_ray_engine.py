"""`run --engine ray` on a local Ray instance (two CPUs, a small object store): real Whisper (tiny.en) on
real calls, a transcribing Ray worker killed mid-run, and every call still done exactly once; a second
run reuses everything."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

ray = pytest.importorskip("ray")

from qa_pipeline.checklist import load_checklists  # noqa: E402
from qa_pipeline.judging.options import JudgeOptions  # noqa: E402
from qa_pipeline.pipeline import PipelineOptions  # noqa: E402
from qa_pipeline.ray_engine import RayOptions, run_pipeline_ray  # noqa: E402
from qa_pipeline.store.database import Store  # noqa: E402
from qa_pipeline.transcription.transcribe import TranscribeOptions  # noqa: E402
from qa_pipeline.workspace import Workspace  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CALLS = ["en01_billing_exemplary", "en02_no_greeting", "en05_unresolved"]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, object_store_memory=150 * 2**20, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _kill_a_transcriber_mid_run(store_path: Path, killed: list[int]) -> None:
    """Once the first transcript is stored (mid-run, with calls to go), SIGKILL a transcribing actor."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not killed:
        done = 0
        if store_path.exists():
            with sa.create_engine(f"sqlite:///{store_path}").connect() as conn:
                if sa.inspect(conn).has_table("transcripts"):
                    done = conn.execute(sa.text("SELECT COUNT(*) FROM transcripts")).scalar() or 0
        if done >= 1:
            for process in psutil.process_iter(["cmdline"]):
                if "MapBatches(TranscribeWorker)" in " ".join(process.info["cmdline"] or []):
                    process.kill()
                    killed.append(process.pid)
                    return
        time.sleep(0.2)


@pytest.mark.slow  # Ray's start and two runs: about two minutes on two cores
def test_a_killed_ray_worker_loses_no_call_and_does_none_twice(local_ray: None, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    for call_id in CALLS:
        (calls / f"{call_id}.ogg").symlink_to(REPO / "seeds" / "audio" / f"{call_id}.ogg")
    workspace = Workspace(tmp_path / "work")
    options = PipelineOptions(
        transcribe=TranscribeOptions(whisper_model="bundled:tiny.en", device="cpu", language="en"),
        judge=JudgeOptions(backend="llama", model="bundled:smollm2"),
        report=False,
    )
    # rules only: what is tested is the engine, not a model's opinion
    checklists = load_checklists([REPO / "benchmarks" / "scale-checklists"])
    killed: list[int] = []
    killer = threading.Thread(
        target=_kill_a_transcriber_mid_run, args=(tmp_path / "work" / "qa.sqlite", killed)
    )
    killer.start()
    result = run_pipeline_ray([calls], checklists, workspace, options, RayOptions())
    killer.join(timeout=5)
    assert killed, "no transcribing worker was found to kill"
    assert sorted(r.call_id for r in result.transcription.results) == CALLS
    assert {r.status for r in result.transcription.results} <= {"transcribed", "cached"}
    assert sorted(s.call_id for s in result.scores) == CALLS and {s.status for s in result.scores} == {
        "scored"
    }
    store = Store(workspace.store_url)
    with store.engine.connect() as conn:
        per_call = dict(
            conn.execute(sa.text("SELECT call_id, COUNT(*) FROM transcripts GROUP BY call_id")).all()
        )
        claims = conn.execute(sa.text("SELECT COUNT(*) FROM claims")).scalar()
    assert per_call == dict.fromkeys(CALLS, 1)  # done once each, the killed worker's call included
    assert claims == 0  # nothing left claimed by the dead worker
    assert all((workspace.transcripts / f"{c}.json").is_file() for c in CALLS)
    assert all((workspace.scorecards / f"{c}.json").is_file() for c in CALLS)

    again = run_pipeline_ray([calls], checklists, workspace, options, RayOptions())
    assert {r.status for r in again.transcription.results} == {"cached"}
    assert {s.status for s in again.scores} == {"cached"}


def test_a_cluster_refuses_a_store_its_nodes_cannot_share(tmp_path: Path) -> None:
    from qa_pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="postgresql"):
        run_pipeline_ray(
            [tmp_path], [], Workspace(tmp_path / "work"), None, RayOptions(address="ray://head:10001")
        )
