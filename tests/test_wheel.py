"""The built wheel, installed into a fresh virtual environment, works from an empty folder."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_installed_wheel_runs_checklist_init_and_the_demo_from_an_empty_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = wheels.glob("qa_pipeline-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    # The dependencies (torch, faster-whisper, the bundled models) come from this environment's
    # site-packages; the package itself only from the wheel (a .pth path runs no editable hooks).
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (purelib / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    empty = tmp_path / "empty"
    empty.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), "-m", "qa_pipeline", *args],
            cwd=empty,
            capture_output=True,
            text=True,
            env=os.environ,
        )

    where = subprocess.run(
        [str(python), "-c", "import qa_pipeline; print(qa_pipeline.__file__)"],
        cwd=empty,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    init = run("checklist", "init", "team-checklists")
    assert init.returncode == 0, init.stderr
    copied = sorted(p.name for p in (empty / "team-checklists").glob("*.yaml"))
    assert copied == ["inbound-service-en.yaml", "inbound-service-ru.yaml"]
    assert run("checklist", "validate", "team-checklists").returncode == 0
    tiny = ["--whisper-model", "bundled:tiny.en", "--languages", "en", "--device", "cpu"]
    demo = run("demo", "--no-score", "--limit", "1", "--json", *tiny)
    assert demo.returncode == 0, demo.stderr[-2000:]
    report = json.loads(demo.stdout)
    assert [r["status"] for r in report["results"]] == ["transcribed"]
    assert report["calls"][0]["call_id"] == "en01_billing_exemplary"  # the shipped corpus, with its script
    assert (empty / "demo-output" / "transcripts" / "en01_billing_exemplary.json").is_file()
    # the report's template installs with the package: the demo ends by writing the report
    html = Path(report["report"])
    assert html == Path("demo-output") / "report.html" and (empty / html).is_file()
    assert "en01_billing_exemplary" in (empty / html).read_text(encoding="utf-8")
