"""The Python API: every curated name resolves, importing it stays light, and the pipeline runs without the
CLI (the README's notebook example, on a real demo call with the small bundled models)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import qa_pipeline
from qa_pipeline import (
    JudgeOptions,
    PipelineOptions,
    TranscribeOptions,
    Workspace,
    load_checklists,
    run_pipeline,
)


def test_every_public_name_resolves_to_what_its_module_defines() -> None:
    assert qa_pipeline.__all__ == sorted(qa_pipeline._API)
    for name in qa_pipeline.__all__:
        value = getattr(qa_pipeline, name)
        assert getattr(value, "__name__", name) == name


@pytest.mark.parametrize("module", ["qa_pipeline", "qa_pipeline.cli"])
def test_importing_the_api_or_the_cli_loads_no_database_layer_statistics_or_spreadsheets(module: str) -> None:
    heavy = "('sqlalchemy', 'scipy', 'openpyxl', 'torch', 'faster_whisper')"
    code = f"import sys, {module}; print(sorted(m for m in {heavy} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_the_pipeline_runs_from_python_and_a_rerun_reuses_everything(tmp_path: Path, seeds: Path) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copy(seeds / "audio" / "en04_rude_agent.ogg", calls)
    workspace = Workspace(tmp_path / "work")
    options = PipelineOptions(
        transcribe=TranscribeOptions(whisper_model="bundled:tiny.en", language="en", device="cpu"),
        judge=JudgeOptions(backend="llama", model="bundled:smollm2", device="cpu"),
        sample=1,
        controllers=("qa.anna",),
    )
    checklists = load_checklists([seeds.parent / "checklists" / "inbound-service-en.yaml"])
    first = run_pipeline([calls], checklists, workspace, options)
    assert first.ok
    assert first.transcription.transcribed_ids == ["en04_rude_agent"]
    assert {r.status for r in first.scores} == {"scored"}
    assert first.report == workspace.report and workspace.report.is_file()
    assert first.sample is not None and first.review_sheets
    assert all(path.parent == workspace.review for path in first.review_sheets)
    assert [p.name for p in workspace.scorecards.iterdir()] == ["en04_rude_agent.json"]
    again = run_pipeline([calls], checklists, workspace, options.model_copy(update={"sample": 0}))
    assert [r.status for r in again.transcription.results] == ["cached"]
    assert {r.status for r in again.scores} == {"cached"}


def test_the_readme_example_uses_only_the_public_api() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    example = readme.split("## The same from Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    compile(example, "README.md", "exec")
    imported = example.split("from qa_pipeline import (", 1)[1].split(")", 1)[0]
    names = {name.strip() for name in imported.replace("\n", " ").split(",") if name.strip()}
    assert names and names <= set(qa_pipeline.__all__)
