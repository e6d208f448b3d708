"""`qa-pipeline run`: every stage in one command on real calls and real (small) models, and resuming."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from qa_pipeline.cli import app
from qa_pipeline.store import Store

SMALL_MODELS = [
    "--whisper-model", "bundled:tiny.en", "--language", "en", "--device", "cpu",
    "--judge-backend", "llama", "--judge-model", "bundled:smollm2",
]  # fmt: skip


def test_run_transcribes_scores_samples_and_reports_then_resumes(tmp_path: Path, seeds: Path) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    for name in ("en04_rude_agent.ogg", "en08_prompt_injection.ogg"):
        shutil.copy(seeds / "audio" / name, calls / name)
    work = tmp_path / "work"
    args = ["run", str(calls), "--checklist", str(seeds.parent / "checklists" / "inbound-service-en.yaml"),
            "--work-dir", str(work), *SMALL_MODELS, "--sample", "2", "--controllers", "qa.anna,qa.boris",
            "--json"]  # fmt: skip
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert [r["status"] for r in report["results"]] == ["transcribed"] * 2
    assert sorted(r["status"] for r in report["scores"]) == ["scored"] * 2
    assert all(r["checklist"].startswith("inbound-service-en ") for r in report["scores"])
    assert len(report["sample"]["picks"]) >= 2
    assert report["review_sheets"] and all(Path(p).is_file() for p in report["review_sheets"])
    assert Path(report["report"]) == work / "report.html" and (work / "report.html").is_file()
    assert set(report["stage_seconds"]) == {"transcribe", "score"}
    store = Store(work / "qa.sqlite")
    assert len(store.transcripts()) == 2 and len(store.scorecards()) == 2
    store.close()

    again = CliRunner().invoke(app, args)  # a second run finds the work done
    assert again.exit_code == 0, again.output
    resumed = json.loads(again.output)
    assert [r["status"] for r in resumed["results"]] == ["cached"] * 2
    assert [r["status"] for r in resumed["scores"]] == ["cached"] * 2


def test_a_sample_without_controllers_is_refused_before_any_work(tmp_path: Path, seeds: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", str(seeds / "audio"), "--work-dir", str(tmp_path), "--sample", "5"]
    )
    assert result.exit_code != 0
    assert "--sample needs --controllers" in str(result.exception) + result.output
    assert not (tmp_path / "transcripts").exists()
