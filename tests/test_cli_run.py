"""`qa-pipeline run`: every stage in one command on real calls and real (small) models, and resuming;
and the judge that `run` and `demo` build from their options."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_pipeline.cli import app
from qa_pipeline.judging.judge import Judge
from qa_pipeline.judging.options import JudgeOptions, make_judge
from qa_pipeline.judging.thresholds import ItemThreshold, write_thresholds
from qa_pipeline.store.database import Store
from qa_pipeline.workspace import Workspace

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
    assert len(list(store.transcripts())) == 2 and len(list(store.scorecards())) == 2
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


class JudgeBuilt(Exception):
    """Stops a command once its judge is built: the judge is all these tests look at."""

    def __init__(self, judge: Judge) -> None:
        super().__init__("judge built")
        self.judge = judge


def built_judge(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> Judge:
    """The judge a command builds from `args`, by the real `make_judge`, before it does any work."""

    def stop(options: JudgeOptions) -> Judge:
        raise JudgeBuilt(make_judge(options))

    # Wherever a command builds its judge: the library (run and demo alike), or the score command itself.
    for module in ("qa_pipeline.pipeline", "qa_pipeline.cli.score"):
        monkeypatch.setattr(importlib.import_module(module), "make_judge", stop)
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, JudgeBuilt), result.output
    return result.exception.judge


def team_thresholds(path: Path, solution: float) -> None:
    fitted = {"solution": ItemThreshold(threshold=solution, calls=12, agreement=0.9)}
    write_thresholds(path, "bundled:smollm2", "reviews", fitted)


def test_run_reads_the_team_thresholds_of_its_work_dir(
    tmp_path: Path, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    team_thresholds(Workspace().thresholds, 0.456)  # the default work dir's (here): not this run's
    work = tmp_path / "elsewhere"
    team_thresholds(Workspace(work).thresholds, 0.123)
    args = ["run", str(seeds / "audio"), "--work-dir", str(work), *SMALL_MODELS]
    assert built_judge(monkeypatch, args).thresholds["solution"] == 0.123


def test_demo_reads_the_team_thresholds_of_its_work_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "demo"
    team_thresholds(Workspace(work).thresholds, 0.123)
    args = ["demo", "--work-dir", str(work), "--device", "cpu"]
    args += ["--judge-backend", "llama", "--judge-model", "bundled:smollm2"]
    assert built_judge(monkeypatch, args).thresholds["solution"] == 0.123


def test_run_device_is_whispers_alone_when_the_judge_is_a_server(
    tmp_path: Path, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["run", str(seeds / "audio"), "--work-dir", str(tmp_path), "--device", "cpu"]
    args += ["--judge-backend", "openai", "--judge-model", "m", "--base-url", "http://localhost:8000/v1"]
    assert built_judge(monkeypatch, args).backend.name == "openai"


def test_a_gpu_the_judge_cannot_use_is_refused_before_any_work(
    tmp_path: Path, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: False)
    args = ["run", str(seeds / "audio"), "--work-dir", str(tmp_path), "--device", "cuda"]
    result = CliRunner().invoke(app, [*args, "--judge-backend", "llama", "--judge-model", "bundled:smollm2"])
    assert result.exit_code != 0
    assert "no GPU offload" in str(result.exception)
    assert not (tmp_path / "transcripts").exists()
