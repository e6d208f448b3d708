"""Review sheets: blind XLSX with drop-downs, CSV, and cell-by-cell import that keeps good rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from scored_store import fill_store

from qa_pipeline.checklist import Checklist, Item
from qa_pipeline.errors import ConfigError
from qa_pipeline.human_control import import_review_sheets, plan_review, write_review_sheets
from qa_pipeline.review_sheets import parse_answer, read_sheet
from qa_pipeline.store import Store

Project = tuple[Store, dict[str, Checklist]]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    store = Store(tmp_path / "qa.sqlite")
    return store, fill_store(store)


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [["call_id", "checklist", "item_id", "answer", "comment", "reviewer"], *rows]
        )
    return path


def test_blind_xlsx_has_drop_downs_links_and_no_ai_answers(project: Project, tmp_path: Path) -> None:
    store, checklists = project
    plan = plan_review(store, checklists, controllers=["ann", "bob"], size=4, risk_picks=0, seed=3)
    files = write_review_sheets(store, plan, checklists, tmp_path / "review")
    xlsx = [f for f in files if f.suffix == ".xlsx"]
    assert {f.name for f in xlsx} <= {"review-ann.xlsx", "review-bob.xlsx"} and xlsx
    book = load_workbook(xlsx[0])
    sheet = book["Review"]
    header = [c.value for c in sheet[1]]
    assert "answer" in header and not any(str(h).startswith("ai_") for h in header)
    answer_col = header.index("answer") + 1
    rows = sheet.max_row - 1
    assert rows % 11 == 0 and rows > 0  # one row per call and item
    formulas = {v.formula1 for v in sheet.data_validations.dataValidation}
    assert '"yes,no"' in formulas and '"yes,no,na"' in formulas
    covered = sum(len(list(v.sqref.ranges)) for v in sheet.data_validations.dataValidation)
    assert covered == rows  # every answer cell has a drop-down
    assert sheet.cell(row=2, column=header.index("audio") + 1).hyperlink.target.startswith("file://")
    assert sheet.cell(row=2, column=answer_col).value in (None, "")
    assert "Transcripts" in book.sheetnames


def test_show_ai_adds_the_ai_columns(project: Project, tmp_path: Path) -> None:
    store, checklists = project
    plan = plan_review(store, checklists, controllers=["ann"], size=2, risk_picks=0)
    files = write_review_sheets(store, plan, checklists, tmp_path / "review", show_ai=True)
    header = next(csv.reader((tmp_path / "review" / "review-ann.csv").open(encoding="utf-8-sig")))
    assert "ai_answer" in header and files


def test_filled_xlsx_imports_and_reimport_changes_nothing(project: Project, tmp_path: Path) -> None:
    store, checklists = project
    plan = plan_review(store, checklists, controllers=["ann"], size=2, risk_picks=0)
    write_review_sheets(store, plan, checklists, tmp_path / "review")
    path = tmp_path / "review" / "review-ann.xlsx"
    book = load_workbook(path)
    sheet = book["Review"]
    header = [c.value for c in sheet[1]]
    for row in range(2, sheet.max_row + 1):
        allowed = sheet.cell(row=row, column=header.index("allowed") + 1).value
        sheet.cell(row=row, column=header.index("answer") + 1).value = (
            "Yes " if row % 2 else allowed.split("/")[1]
        )
    sheet.cell(row=3, column=header.index("answer") + 1).value = None  # not answered yet
    book.save(path)
    first = import_review_sheets(store, [path], checklists)[0]
    assert first.problems == [] and first.unanswered == 1
    assert first.counts.inserted == sheet.max_row - 2
    again = import_review_sheets(store, [path], checklists)[0]
    assert again.counts.inserted == 0 and again.counts.updated == 0
    assert again.counts.unchanged == first.counts.inserted
    assert len(store.human_reviews()) == first.counts.inserted


def test_broken_cells_are_reported_by_row_and_column_and_good_rows_import(
    project: Project, tmp_path: Path
) -> None:
    store, checklists = project
    path = _write_csv(
        tmp_path / "broken.csv",
        [
            ["en01_billing_exemplary", "inbound-service-en", "greeting", "yes", "", "ann"],  # good
            ["en01_billing_exemplary", "inbound-service-en", "empathy", "maybe", "", "ann"],  # bad answer
            ["en99_missing", "inbound-service-en", "greeting", "yes", "", "ann"],  # unknown call
            ["en01_billing_exemplary", "inbound-service-en", "greting", "yes", "", "ann"],  # typo in item
            ["en01_billing_exemplary", "inbound-service-en", "closing", "no", "", ""],  # no reviewer
            ["en01_billing_exemplary", "inbound-service-en", "greeting", "na", "", "bob"],  # N/A not allowed
            [
                "en01_billing_exemplary",
                "inbound-service-en",
                "greeting",
                "no",
                "",
                "ann",
            ],  # contradicts row 2
            ["en02_no_greeting", "inbound-service-en", "hold_etiquette", "N/A", "no hold", "ann"],  # good
            ["ru01_exemplary", "inbound-service-ru", "greeting", "Да", "", "ann"],  # good: Russian yes
            ["en02_no_greeting", "inbound-service-xx", "greeting", "no", "", "ann"],  # unknown checklist
        ],
    )
    result = import_review_sheets(store, [path], checklists)[0]
    problems = "\n".join(result.problems)
    assert "row 3, column D (answer): 'maybe' is not one of yes/no/na" in problems
    assert "row 4, column A (call_id): unknown call 'en99_missing'" in problems
    assert "row 5, column C (item_id): 'greting' is not an item" in problems
    assert "row 6, column F (reviewer): empty" in problems
    assert "row 7, column D (answer): 'na' is not one of yes/no" in problems
    assert "row 8, column D (answer): row 2 gives this call, item and reviewer another answer" in problems
    assert "row 11, column B (checklist): unknown checklist 'inbound-service-xx'" in problems
    assert len(result.problems) == 7 and all(p.startswith(str(path)) for p in result.problems)
    stored = {(r.call_id, r.item_id): r for r in store.human_reviews()}
    assert set(stored) == {
        ("en01_billing_exemplary", "greeting"),
        ("en02_no_greeting", "hold_etiquette"),
        ("ru01_exemplary", "greeting"),
    }
    assert stored[("ru01_exemplary", "greeting")].answer == "yes"
    assert stored[("en02_no_greeting", "hold_etiquette")].answer == "na"


def test_a_changed_answer_updates_instead_of_duplicating(project: Project, tmp_path: Path) -> None:
    store, checklists = project
    row = ["en01_billing_exemplary", "inbound-service-en", "greeting", "yes", "", "ann"]
    import_review_sheets(store, [_write_csv(tmp_path / "a.csv", [row])], checklists)
    changed = import_review_sheets(
        store, [_write_csv(tmp_path / "b.csv", [[*row[:3], "no", "on relisten", "ann"]])], checklists
    )
    assert changed[0].counts.updated == 1
    assert [r.answer for r in store.human_reviews()] == ["no"]


def test_unreadable_sheets_name_the_file(project: Project, tmp_path: Path) -> None:
    store, checklists = project
    fake = tmp_path / "scores.xlsx"
    fake.write_bytes(b"not a zip file")
    with pytest.raises(ConfigError, match=r"scores\.xlsx: not a readable XLSX"):
        read_sheet(fake, checklists, set())
    headerless = tmp_path / "scores.csv"
    headerless.write_text("call,verdict\nx,yes\n", encoding="utf-8")
    result = import_review_sheets(store, [headerless, fake], checklists)
    assert "missing column(s) call_id, checklist, item_id, answer, reviewer" in result[0].problems[0]
    assert result[1].problems and store.human_reviews() == []


def test_scale_answers_parse_like_the_checklist_defines_them() -> None:
    # The judge may answer N/A on a scale item that allows it; so may a controller in a sheet.
    item = Item(
        id="tone", question="How warm was the agent's tone?", answer="scale", scale_max=3, allow_na=True
    )
    assert item.answers == [0, 1, 2, 3, "na"]
    assert [parse_answer(raw, item) for raw in (2.0, " 3 ", "N/A", "na", 0)] == [2, 3, "na", "na", 0]
    assert [parse_answer(raw, item) for raw in (4, "7", 2.5, True, "yes")] == [None] * 5
    strict = item.model_copy(update={"allow_na": False})
    assert parse_answer("na", strict) is None


def test_every_controller_gets_their_own_sheet_even_with_dots_in_names(
    project: Project, tmp_path: Path
) -> None:
    store, checklists = project
    plan = plan_review(store, checklists, controllers=["qa.elena", "qa.mikhail"], size=4, risk_picks=0)
    files = write_review_sheets(store, plan, checklists, tmp_path / "review")
    assert sorted(f.name for f in files) == [
        "plan.json",
        "review-qa.elena.csv",
        "review-qa.elena.xlsx",
        "review-qa.mikhail.csv",
        "review-qa.mikhail.xlsx",
    ]
    assert all(f.is_file() for f in files)
