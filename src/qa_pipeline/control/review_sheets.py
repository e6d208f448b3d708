"""Review sheets for human controllers: written as XLSX (drop-downs) or CSV, read back cell by cell.

Sheets are blind by default: a controller who sees the AI's answer tends to agree with it, and then the
agreement we measure is the AI's influence, not its accuracy. Reading a sheet never stops at the first bad
cell: every problem is reported with sheet, row and column, and the good rows still count.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import BaseModel

from qa_pipeline.checklist import Checklist, Item
from qa_pipeline.control.spreadsheets import (
    SheetLimits,
    Table,
    cell_safe,
    looks_like_formula,
    plain_text,
    read_csv_table,
    read_xlsx_table,
)
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import HumanReview, SamplePick, Scorecard, Transcript

REVIEW_SHEET = "Review"
TRANSCRIPT_SHEET = "Transcripts"
COLUMNS = [
    "call_id",
    "audio",
    "section",
    "item_id",
    "question",
    "guidance",
    "scope",
    "allowed",
    "answer",
    "comment",
    "reviewer",
    "checklist",
    "checklist_version",
    "agent",
    "date",
    "duration_s",
]
AI_COLUMNS = ["ai_answer", "ai_confidence", "ai_evidence"]
REQUIRED = ["call_id", "checklist", "item_id", "answer", "reviewer"]
# Words controllers type in CSV sheets instead of picking from the drop-down (Russian teams included).
ANSWER_ALIASES = {"n/a": "na", "n.a.": "na", "да": "yes", "нет": "no", "н/п": "na", "н/д": "na"}
WIDTHS = {"question": 50, "guidance": 50, "comment": 30, "call_id": 26, "audio": 24, "ai_evidence": 40}


class CallInfo(BaseModel):
    audio_path: str
    duration: float
    agent: str | None = None
    date: str | None = None


def _scope_text(item: Item) -> str:
    parts = [] if item.scope.speaker == "both" else [f"{item.scope.speaker} only"]
    window = item.scope.window
    if window is not None:
        parts.append(
            f"first {window.first_seconds:g} s" if window.first_seconds else f"last {window.last_seconds:g} s"
        )
    return ", ".join(parts) or "whole call"


def review_rows(
    picks: Iterable[SamplePick],
    reviewer: str,
    checklists: dict[str, Checklist],
    calls: dict[str, CallInfo],
    scorecards: dict[tuple[str, str], Scorecard] | None = None,
) -> list[dict[str, Any]]:
    """One row per call and item for one controller; AI columns only when `scorecards` is given."""
    rows = []
    for pick in picks:
        if reviewer not in pick.reviewers:
            continue
        checklist = checklists[pick.checklist_id]
        call = calls[pick.call_id]
        card = scorecards.get((pick.call_id, pick.checklist_id)) if scorecards is not None else None
        verdicts = {v.item_id: v for v in card.verdicts} if card else {}
        for section in checklist.sections:
            for item in section.items:
                row: dict[str, Any] = {
                    "call_id": pick.call_id,
                    "audio": call.audio_path,
                    "section": section.title,
                    "item_id": item.id,
                    "question": item.question,
                    "guidance": item.guidance.strip(),
                    "scope": _scope_text(item),
                    "allowed": "/".join(item.answer_labels),
                    "answer": "",
                    "comment": "",
                    "reviewer": reviewer,
                    "checklist": checklist.id,
                    "checklist_version": checklist.version,
                    "agent": call.agent or "",
                    "date": call.date or "",
                    "duration_s": round(call.duration),
                }
                if scorecards is not None:
                    verdict = verdicts.get(item.id)
                    row["ai_answer"] = "" if verdict is None or verdict.answer is None else verdict.answer
                    row["ai_confidence"] = (
                        "" if verdict is None or verdict.confidence is None else round(verdict.confidence, 2)
                    )
                    row["ai_evidence"] = (
                        " | ".join(
                            f"[{e.start:.0f}s] {e.quote}" if e.start is not None else e.quote
                            for e in verdict.evidence
                        )
                        if verdict
                        else ""
                    )
                rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = COLUMNS + (AI_COLUMNS if rows and "ai_answer" in rows[0] else [])
    with path.open("w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel opens UTF-8 correctly
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({name: cell_safe(value) for name, value in row.items()} for row in rows)


def write_xlsx(
    path: Path, rows: list[dict[str, Any]], transcripts: dict[str, Transcript] | None = None
) -> None:
    """The review sheet with a drop-down on every answer cell, audio links, and the transcripts."""
    columns = COLUMNS + (AI_COLUMNS if rows and "ai_answer" in rows[0] else [])
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = REVIEW_SHEET
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    answer_col = get_column_letter(columns.index("answer") + 1)
    validations: dict[str, DataValidation] = {}
    for row_number, row in enumerate(rows, start=2):
        _append_as_text(sheet, [row.get(name, "") for name in columns])
        audio = sheet.cell(row=row_number, column=columns.index("audio") + 1)
        audio.value = plain_text(Path(row["audio"]).name)
        audio.hyperlink = Path(row["audio"]).resolve().as_uri()
        audio.style = "Hyperlink"
        allowed = row["allowed"].replace("/", ",")
        if allowed not in validations:
            validation = DataValidation(
                type="list",
                formula1=f'"{allowed}"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Not an allowed answer",
                error=f"Choose one of: {allowed}",
            )
            sheet.add_data_validation(validation)
            validations[allowed] = validation
        validations[allowed].add(f"{answer_col}{row_number}")
        sheet[f"{answer_col}{row_number}"].fill = PatternFill("solid", fgColor="FFF2CC")
    for index, name in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(name, 12)
        if name in ("question", "guidance"):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"
    if transcripts:
        _transcript_sheet(book, rows, transcripts)
    book.save(path)


def _transcript_sheet(book: Workbook, rows: list[dict[str, Any]], transcripts: dict[str, Transcript]) -> None:
    """Turns with timestamps, so a controller can jump to the moment in the recording."""
    sheet = book.create_sheet(TRANSCRIPT_SHEET)
    sheet.append(["call_id", "start", "end", "speaker", "text"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for call_id in dict.fromkeys(row["call_id"] for row in rows):
        transcript = transcripts.get(call_id)
        for segment in transcript.segments if transcript else []:
            _append_as_text(
                sheet, [call_id, _clock(segment.start), _clock(segment.end), segment.speaker, segment.text]
            )
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["E"].width = 100


def _append_as_text(sheet: Any, values: list[Any]) -> None:
    """openpyxl makes any text starting with "=" a formula: what a caller said stays a string."""
    sheet.append([plain_text(value) for value in values])
    for cell in sheet[sheet.max_row]:
        if looks_like_formula(cell.value):
            cell.data_type = "s"


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"


class SheetRead(BaseModel):
    reviews: list[HumanReview]
    problems: list[str]
    unanswered: int


def read_sheet(
    path: Path, checklists: dict[str, Checklist], known_calls: set[str], limits: SheetLimits | None = None
) -> SheetRead:
    """Every answered row of a review sheet, checked cell by cell against the checklist it names."""
    table = _read_table(path, limits or SheetLimits())
    where, header, records = table.where, table.header, table.records
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ConfigError(f"{where}: row 1: missing column(s) {', '.join(missing)}")
    position = {name: header.index(name) for name in header if name}

    def cell(values: list[Any], name: str) -> Any:
        index = position.get(name)
        value = values[index] if index is not None and index < len(values) else None
        return value.strip() if isinstance(value, str) else value

    reviews: list[HumanReview] = []
    problems: list[str] = list(table.problems)
    seen: dict[tuple[str, str, str, str], tuple[int, Any]] = {}
    unanswered = 0
    for row_number, values in records:

        def problem(name: str, message: str, row_number: int = row_number) -> None:
            letter = get_column_letter(position[name] + 1)
            problems.append(f"{where}: row {row_number}, column {letter} ({name}): {message}")

        raw_answer = cell(values, "answer")
        if raw_answer in (None, ""):
            unanswered += 1
            continue
        before = len(problems)
        call_id = str(cell(values, "call_id") or "")
        checklist_id = str(cell(values, "checklist") or "")
        item_id = str(cell(values, "item_id") or "")
        reviewer = str(cell(values, "reviewer") or "")
        if not call_id:
            problem("call_id", "empty")
        elif call_id not in known_calls:
            problem("call_id", f"unknown call {call_id!r} (not in the store)")
        if not reviewer:
            problem("reviewer", "empty: whose answer is this?")
        checklist = checklists.get(checklist_id)
        item = None
        if checklist is None:
            problem(
                "checklist", f"unknown checklist {checklist_id!r}; loaded: {', '.join(sorted(checklists))}"
            )
        else:
            try:
                item = checklist.item(item_id)
            except KeyError:
                problem("item_id", f"{item_id!r} is not an item of checklist {checklist_id}")
        answer = None
        if item is not None:
            answer = parse_answer(raw_answer, item)
            if answer is None:
                problem("answer", f"{raw_answer!r} is not one of {'/'.join(item.answer_labels)}")
        if len(problems) > before or answer is None:
            continue
        key = (call_id, checklist_id, item_id, reviewer)
        if key in seen and seen[key][1] != answer:
            problem("answer", f"row {seen[key][0]} gives this call, item and reviewer another answer")
            continue
        seen[key] = (row_number, answer)
        reviews.append(
            HumanReview(
                call_id=call_id,
                checklist_id=checklist_id,
                item_id=item_id,
                reviewer=reviewer,
                answer=answer,
                comment=str(cell(values, "comment") or ""),
                source=path.name,
            )
        )
    return SheetRead(reviews=reviews, problems=problems, unanswered=unanswered)


def parse_answer(raw: Any, item: Item) -> str | int | None:
    """The answer as the checklist defines it, or None when the cell holds something else."""
    if item.answer == "scale" and not isinstance(raw, bool):
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw.strip())
        if isinstance(raw, int):
            return raw if raw in item.answers else None
    text = str(raw).strip().lower()
    text = ANSWER_ALIASES.get(text, text)
    return text if text in item.answer_labels else None


def holds_answers(path: Path) -> bool:
    """Whether a sheet may hold a controller's work: an answer or a comment filled in, or a file that
    cannot be read as a sheet (it may be theirs, damaged); only a sheet with neither may be replaced."""
    try:
        table = _read_table(path, SheetLimits())
    except ConfigError:
        return True
    if table.problems:  # rows past the cap were not looked at
        return True
    columns = [table.header.index(name) for name in ("answer", "comment") if name in table.header]
    if len(columns) < 2:
        return True
    return any(
        str(values[index]).strip()
        for _, values in table.records
        for index in columns
        if index < len(values) and values[index] is not None
    )


def _read_table(path: Path, limits: SheetLimits) -> Table:
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    if path.suffix.lower() == ".xlsx":
        return read_xlsx_table(path, REVIEW_SHEET, limits)
    if path.suffix.lower() == ".csv":
        return read_csv_table(path, limits)
    raise ConfigError(f"{path}: a review sheet must be .xlsx or .csv")
