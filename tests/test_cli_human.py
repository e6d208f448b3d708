"""Human control from the command line: sample -> fill the blind sheet -> import -> calibrate -> override."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook
from scored_store import REPO, SEEDS, fill_store
from typer.testing import CliRunner

from qa_pipeline.cli import app
from qa_pipeline.demo_corpus import load_scripts
from qa_pipeline.store.database import Store

runner = CliRunner()


def run_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_review_round_trip(tmp_path: Path) -> None:
    db = str(tmp_path / "qa.sqlite")
    fill_store(Store(db), {("en02_no_greeting", "greeting"): "yes"})
    common = ["--store", db, "--checklist", str(REPO / "checklists")]
    code, output = run_cli(
        "sample", "--controllers", "ann,bob", "--size", "6", "--risk", "2", "--seed", "5",
        "--out", str(tmp_path / "review"), *common,
    )  # fmt: skip
    assert code == 0, output
    assert "random baseline (agent: " in output and "double-scored" in output
    plan = json.loads((tmp_path / "review" / "plan.json").read_text(encoding="utf-8"))
    assert len(plan["picks"]) == 8 and {p["kind"] for p in plan["picks"]} == {"random", "risk"}

    # Controller ann answers her sheet with the scripts' answers, except "maybe" in one cell.
    sheet_path = tmp_path / "review" / "review-ann.xlsx"
    book = load_workbook(sheet_path)
    sheet = book["Review"]
    header = [c.value for c in sheet[1]]
    col = {name: header.index(name) + 1 for name in ("call_id", "item_id", "answer")}
    scripts = load_scripts(SEEDS / "scripts")
    for row in range(2, sheet.max_row + 1):
        call = sheet.cell(row=row, column=col["call_id"]).value
        item = sheet.cell(row=row, column=col["item_id"]).value
        sheet.cell(row=row, column=col["answer"]).value = scripts[call].expected[item]
    sheet.cell(row=5, column=col["answer"]).value = "maybe"
    book.save(sheet_path)

    code, output = run_cli("import-scores", str(sheet_path), *common)
    assert code == 1  # a bad cell fails the command, but the good rows are in
    assert (
        f"review-ann.xlsx (sheet Review): row 5, column {chr(64 + col['answer'])} (answer): 'maybe'" in output
    )
    answered = sheet.max_row - 2
    assert f"{answered} new" in output
    code, output = run_cli("import-scores", str(sheet_path), *common)
    assert f"0 new, 0 changed, {answered} unchanged" in output

    report_path = tmp_path / "agreement.json"
    code, output = run_cli(
        "calibrate",
        "--min-reviews",
        "3",
        "--bootstrap",
        "200",
        "--confusion",
        "--out",
        str(report_path),
        *common,
    )
    assert code == 0, output
    assert "Trust map" in output and "greeting: AI (rows) x controller (columns)" in output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["calls_reviewed"] >= 3 and report["items"]
    methods = {item["item_id"]: item["method"] for item in report["items"]}
    assert methods["greeting"] == "phrases" and methods["solution"] == "llm"  # rule and LLM items apart
    assert "rule items:" in output and "LLM items:" in output
    csv_text = report_path.with_suffix(".csv").read_text(encoding="utf-8")
    assert csv_text.startswith("group,item_id,method,n,agreement")

    code, output = run_cli(
        "override",
        "en04_rude_agent",
        "no_rudeness",
        "yes",
        "--comment",
        "Firm, not rude",
        "--by",
        "sue",
        *common,
    )
    assert code == 0 and "total 0 -> " in output

    # The same commands report in JSON for scripts and BI jobs.
    code, output = run_cli("calibrate", "--bootstrap", "100", "--out", str(report_path), "--json", *common)
    assert code == 0 and json.loads(output)["calls_reviewed"] == report["calls_reviewed"]
    code, output = run_cli(
        "override", "en03_no_identification", "greeting", "no", "--comment", "No company name",
        "--by", "sue", "--json", *common,
    )  # fmt: skip
    assert code == 0 and json.loads(output)["item_id"] == "greeting"
    code, output = run_cli("export-scores", "--out", str(tmp_path / "export"), "--json", *common)
    assert code == 0 and len(json.loads(output)["written"]) == 12
    code, output = run_cli(
        "sample", "--controllers", "ann", "--size", "2", "--seed", "9", "--out", str(tmp_path / "again"),
        "--json", *common,
    )  # fmt: skip
    assert code == 0 and json.loads(output)["plan"]["picks"] and json.loads(output)["files"]

    # A new sample never overwrites a sheet with answers: ann's new sheet goes beside her answered one.
    code, output = run_cli(
        "sample", "--controllers", "ann", "--size", "2", "--seed", "9", "--out", str(tmp_path / "review"),
        *common,
    )  # fmt: skip
    assert code == 0 and str(tmp_path / "review" / "review-ann-2.xlsx") in output
    assert load_workbook(sheet_path)["Review"].cell(row=5, column=col["answer"]).value == "maybe"


def test_errors_name_the_problem_and_exit_1(tmp_path: Path) -> None:
    db = str(tmp_path / "qa.sqlite")
    fill_store(Store(db))
    command = [sys.executable, "-m", "qa_pipeline", "override", "en04_rude_agent", "no_rudeness", "yes"]
    done = subprocess.run(
        [*command, "--comment", "", "--by", "sue", "--store", db], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 1 and "needs a comment" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "qa_pipeline", "calibrate", "--store", db],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 1 and "no human reviews" in done.stderr
