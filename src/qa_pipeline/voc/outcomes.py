"""Customer and employee outcomes from a CSV: survey answers per call or per customer (CSAT 1-5, NPS
0-10, CES 1-7) and eNPS per team and period (-100..100).

Checked like review sheets: every bad cell is reported by row and column, the good rows still import,
and importing the same file again changes nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import BaseModel, Field

from qa_pipeline.errors import ConfigError

SURVEY_COLUMNS = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
ENPS_RANGE = (-100, 100)


class SurveyAnswer(BaseModel):
    """One customer's answers, about one call or about the customer's recent contacts."""

    call_id: str | None = None
    customer_id: str | None = None
    date: str | None = None
    csat: float | None = Field(default=None, ge=1, le=5)
    nps: float | None = Field(default=None, ge=0, le=10)
    ces: float | None = Field(default=None, ge=1, le=7)
    source: str = ""


class TeamEnps(BaseModel):
    team: str
    period: str = Field(description="YYYY-MM, as the report's periods")
    enps: float = Field(ge=-100, le=100)
    source: str = ""


class OutcomesRead(BaseModel):
    surveys: list[SurveyAnswer]
    enps: list[TeamEnps]
    problems: list[str]


def read_outcomes(path: Path) -> OutcomesRead:
    """Rows with call_id or customer_id are survey answers; rows with team, period and enps are eNPS."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path}: cannot read outcomes ({exc})") from exc
    surveys: list[SurveyAnswer] = []
    enps: list[TeamEnps] = []
    problems: list[str] = []
    for number, row in enumerate(rows, start=2):  # the header is row 1
        cell = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        where = f"{path.name}: row {number}"
        if cell.get("enps"):
            value = _number(cell["enps"], "enps", ENPS_RANGE, where, problems)
            team, period = cell.get("team", ""), cell.get("period", "")
            if not team or len(period) != 7 or period[4] != "-":
                problems.append(f"{where}: eNPS needs team and period (YYYY-MM)")
            elif value is not None:
                enps.append(TeamEnps(team=team, period=period, enps=value, source=path.name))
            continue
        if not cell.get("call_id") and not cell.get("customer_id"):
            problems.append(f"{where}: a survey answer needs call_id or customer_id")
            continue
        values = {
            name: _number(cell.get(name, ""), name, bounds, where, problems)
            for name, bounds in SURVEY_COLUMNS.items()
        }
        if all(v is None for v in values.values()):
            if not any(cell.get(name) for name in SURVEY_COLUMNS):
                problems.append(f"{where}: no csat, nps or ces answer")
            continue
        surveys.append(
            SurveyAnswer(
                call_id=cell.get("call_id") or None,
                customer_id=cell.get("customer_id") or None,
                date=cell.get("date") or None,
                source=path.name,
                **values,
            )
        )
    return OutcomesRead(surveys=surveys, enps=enps, problems=problems)


def _number(raw: str, name: str, bounds: tuple[int, int], where: str, problems: list[str]) -> float | None:
    if not raw:
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        problems.append(f"{where}, column {name}: {raw!r} is not a number")
        return None
    if not bounds[0] <= value <= bounds[1]:
        problems.append(f"{where}, column {name}: {raw!r} is outside {bounds[0]}..{bounds[1]}")
        return None
    return value
