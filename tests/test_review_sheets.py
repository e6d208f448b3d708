"""Review sheets: blind XLSX with drop-downs, CSV, and cell-by-cell import that keeps good rows."""

from __future__ import annotations

import csv
import logging
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from scored_store import fill_store

from qa_pipeline.checklist import Checklist, Item
from qa_pipeline.control.review_sheets import (
    CallInfo,
    parse_answer,
    read_sheet,
    review_rows,
    write_csv,
    write_xlsx,
)
from qa_pipeline.control.spreadsheets import SheetLimits, cell_safe
from qa_pipeline.control.workflow import import_review_sheets, plan_review, write_review_sheets
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import SamplePick
from qa_pipeline.store.database import Store

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


def _answer_first_row(path: Path, answer: str) -> None:
    book = load_workbook(path)
    sheet = book["Review"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("answer") + 1).value = answer
    book.save(path)


def test_a_sheet_with_answers_is_never_overwritten(
    project: Project, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, checklists = project
    out = tmp_path / "review"
    plan = plan_review(store, checklists, controllers=["ann", "bob"], size=4, risk_picks=0, seed=3)
    write_review_sheets(store, plan, checklists, out)
    _answer_first_row(out / "review-ann.xlsx", "yes")  # ann has started; bob has not
    (out / "review-bob.csv").write_bytes(b"\x00\xff damaged")  # unreadable: may be bob's, so kept too
    with caplog.at_level(logging.WARNING):
        again = write_review_sheets(store, plan, checklists, out)
    assert sorted(f.name for f in again if f.suffix == ".xlsx") == ["review-ann-2.xlsx", "review-bob-2.xlsx"]
    assert "review-ann.xlsx may hold answers that are not imported yet: kept" in caplog.text
    assert "review-bob.csv may hold answers" in caplog.text
    kept = read_sheet(out / "review-ann.xlsx", checklists, set(store.call_records()))
    assert [r.answer for r in kept.reviews] == ["yes"]
    # The new sheets hold no answers yet, so the next round may replace them.
    third = write_review_sheets(store, plan, checklists, out)
    assert sorted(f.name for f in third if f.suffix == ".xlsx") == ["review-ann-2.xlsx", "review-bob-2.xlsx"]
    (out / "review-bob.csv").unlink()
    (out / "review-bob.xlsx").unlink()
    fourth = write_review_sheets(store, plan, checklists, out)
    assert "review-bob.xlsx" in {f.name for f in fourth}


def test_a_controller_named_like_a_second_sheet_gets_their_own(project: Project, tmp_path: Path) -> None:
    store, checklists = project
    out = tmp_path / "review"
    plan = plan_review(store, checklists, controllers=["ann", "ann-2"], size=4, risk_picks=0, double_share=1)
    write_review_sheets(store, plan, checklists, out)
    _answer_first_row(out / "review-ann.xlsx", "no")
    files = {f.name for f in write_review_sheets(store, plan, checklists, out)}
    assert {"review-ann-2.xlsx", "review-ann-2-2.xlsx"} <= files
    reviewers = {
        next(csv.DictReader((out / name).open(encoding="utf-8-sig")))["reviewer"]
        for name in ("review-ann-2.csv", "review-ann-2-2.csv")
    }
    assert reviewers == {"ann", "ann-2"}


# Spreadsheets from outside, built the way they arrive broken or hostile. Each must be a reported problem
# naming the file, fast, while the good sheet imported with it still counts.
HEADER = ["call_id", "checklist", "item_id", "answer", "reviewer"]
GOOD_ROW = ["en01_billing_exemplary", "inbound-service-en", "greeting", "yes", "ann"]
STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _xlsx(path: Path, edit: Callable[[str, bytes], bytes] = lambda name, data: data) -> Path:
    """A one-row sheet saved by openpyxl, with each member passed through `edit`."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Review"
    sheet.append(HEADER)
    sheet.append(GOOD_ROW)
    book.save(path)
    members = {}
    with zipfile.ZipFile(path) as archive:
        members = {name: edit(name, archive.read(name)) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _truncated_xml(path: Path) -> Path:
    return _xlsx(path, lambda name, data: data[: len(data) // 2] if name.endswith("sheet1.xml") else data)


def _shared_strings_bomb(path: Path) -> Path:
    """Five million empty shared strings: 25 MB of XML packed into some 25 KB."""

    def declare_strings(name: str, data: bytes) -> bytes:
        override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{STRINGS_TYPE}"/>'
        return (
            data.replace(b"</Types>", override.encode() + b"</Types>")
            if name == "[Content_Types].xml"
            else data
        )

    _xlsx(path, declare_strings)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/sharedStrings.xml", "w") as member,
    ):
        member.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
        for _ in range(50):
            member.write(b"<si/>" * 100_000)
        member.write(b"</sst>")
    return path


def _declared_zip_bomb(path: Path) -> Path:
    """A member that unpacks to 129 MiB of zeros."""
    _xlsx(path)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/media/padding.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(129):
            member.write(bytes(1024 * 1024))
    return path


def _not_a_zip(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04 this is not really a zip file")
    return path


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (_truncated_xml, "not a readable XLSX file ("),
        (_shared_strings_bomb, "XML elements (in xl/sharedStrings.xml)"),
        (_declared_zip_bomb, "unpacks to 129 MiB"),
        (_not_a_zip, "not a readable XLSX file (BadZipFile"),
    ],
)
def test_a_broken_or_hostile_xlsx_is_a_problem_and_the_others_still_import(
    project: Project, tmp_path: Path, build: Callable[[Path], Path], message: str
) -> None:
    store, checklists = project
    bad = build(tmp_path / "hostile.xlsx")
    good = _write_csv(tmp_path / "good.csv", [[*GOOD_ROW[:3], "yes", "", "ann"]])
    started = time.process_time()
    results = import_review_sheets(store, [bad, good], checklists)
    assert time.process_time() - started < 10
    assert len(results[0].problems) == 1 and results[0].problems[0].startswith(f"{bad}: ")
    assert message in results[0].problems[0]
    assert results[1].problems == [] and results[1].counts.inserted == 1


def test_a_declared_dimension_is_not_trusted(project: Project, tmp_path: Path) -> None:
    """5 KB claiming A1:XFD1048576, and a stray cell far out: read in well under a second."""

    def claim_the_whole_sheet(name: str, data: bytes) -> bytes:
        if not name.endswith("sheet1.xml"):
            return data
        data = data.replace(b'<dimension ref="A1:E2"', b'<dimension ref="A1:XFD1048576"')
        return data.replace(
            b"</sheetData>", b'<row r="900000"><c r="XFD900000"><v>1</v></c></row></sheetData>'
        )

    store, checklists = project
    path = _xlsx(tmp_path / "wide.xlsx", claim_the_whole_sheet)
    assert b"XFD1048576" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    started = time.process_time()
    result = import_review_sheets(store, [path], checklists)[0]
    assert time.process_time() - started < 10
    assert result.counts.inserted == 1
    assert result.problems == [
        f"{path} (sheet Review): more than 10000 rows: rows from 10002 on were not read"
    ]


def test_rows_past_the_cap_are_reported_and_the_earlier_ones_count(project: Project, tmp_path: Path) -> None:
    store, checklists = project
    items = ["greeting", "empathy", "closing", "solution"]
    path = _write_csv(
        tmp_path / "long.csv", [[GOOD_ROW[0], GOOD_ROW[1], item, "yes", "", "ann"] for item in items]
    )
    sheet = read_sheet(path, checklists, set(store.call_records()), SheetLimits(max_rows=3))
    assert [r.item_id for r in sheet.reviews] == items[:3]
    assert sheet.problems == [f"{path}: more than 3 rows: rows from 5 on were not read"]


def test_control_characters_are_dropped_from_sheets_and_formulas_stay_text(
    project: Project, tmp_path: Path
) -> None:
    _, checklists = project
    call = CallInfo(audio_path="calls/en01.wav", duration=61, agent="Bo\x0bb Smith", date="2026-10-05\x00")
    pick = SamplePick(
        call_id="en01", checklist_id="inbound-service-en", kind="random", reasons=[], reviewers=["ann"]
    )
    rows = review_rows([pick], "ann", checklists, {"en01": call})
    rows[0]["comment"] = '\x0b=HYPERLINK("http://x")'
    write_xlsx(tmp_path / "sheet.xlsx", rows)
    write_csv(tmp_path / "sheet.csv", rows)
    review = load_workbook(tmp_path / "sheet.xlsx")["Review"]
    header = [c.value for c in review[1]]
    assert review.cell(row=2, column=header.index("agent") + 1).value == "Bob Smith"
    assert review.cell(row=2, column=header.index("date") + 1).value == "2026-10-05"
    comment = review.cell(row=2, column=header.index("comment") + 1)
    assert comment.value == '=HYPERLINK("http://x")' and comment.data_type == "s"
    with (tmp_path / "sheet.csv").open(encoding="utf-8-sig", newline="") as handle:
        first = next(csv.DictReader(handle))
    assert first["agent"] == "Bob Smith" and first["comment"] == '\'=HYPERLINK("http://x")'
    assert [cell_safe(v) for v in ("a\tb\nc\r", "\x7fok\x9f", "\x1f-1", 5)] == ["a\tb\nc\r", "ok", "'-1", 5]
