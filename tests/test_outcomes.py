"""Outcomes come in like review sheets (bad cells named, good rows kept, a second import changes
nothing) and reach the validity analysis, which says plainly when there are too few calls or teams."""

from __future__ import annotations

import json
from pathlib import Path

from scored_store import fill_store
from typer.testing import CliRunner

from qa_pipeline.cli import app
from qa_pipeline.store.database import Store
from qa_pipeline.voc.outcomes import read_outcomes

CSV = """call_id,customer_id,date,csat,nps,ces,team,period,enps
en01_billing_exemplary,,2026-10-05,5,10,2,,,
en02_no_greeting,,2026-10-05,"3,5",,,,,
,cust-9,2026-10-07,,4,,,,
en03_no_identification,,,7,,,,,
,,,,,,,,
,,,,,,billing,2026-10,35
,,,,,,cards,October,20
en04_rude_agent,,,,eleven,,,,
"""


def test_bad_cells_are_named_and_good_rows_import_once(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_text(CSV)
    read = read_outcomes(path)
    assert [(s.call_id, s.customer_id, s.csat, s.nps) for s in read.surveys] == [
        ("en01_billing_exemplary", None, 5.0, 10.0),
        ("en02_no_greeting", None, 3.5, None),
        (None, "cust-9", None, 4.0),
    ]
    assert [(e.team, e.period, e.enps) for e in read.enps] == [("billing", "2026-10", 35.0)]
    assert read.problems == [
        "outcomes.csv: row 5, column csat: '7' is outside 1..5",
        "outcomes.csv: row 6: a survey answer needs call_id or customer_id",
        "outcomes.csv: row 8: eNPS needs team and period (YYYY-MM)",
        "outcomes.csv: row 9, column nps: 'eleven' is not a number",
    ]
    store = str(tmp_path / "qa.sqlite")
    runner = CliRunner()
    first = runner.invoke(app, ["import-outcomes", str(path), "--store", store, "--json"])
    assert first.exit_code == 1  # some cells were bad
    assert json.loads(first.stdout)[0]["inserted"] == 4
    again = json.loads(runner.invoke(app, ["import-outcomes", str(path), "--store", store, "--json"]).stdout)
    assert (again[0]["inserted"], again[0]["updated"], again[0]["unchanged"]) == (0, 0, 4)
    assert len(Store(store).survey_answers()) == 3 and len(Store(store).team_enps()) == 1


def test_validity_says_when_there_is_too_little_to_say_anything(tmp_path: Path) -> None:
    store_path = tmp_path / "qa.sqlite"
    fill_store(Store(store_path))
    path = tmp_path / "outcomes.csv"
    path.write_text(CSV)
    runner = CliRunner()
    runner.invoke(app, ["import-outcomes", str(path), "--store", str(store_path)])
    shown = runner.invoke(app, ["validity", "--store", str(store_path)])
    assert shown.exit_code == 0, shown.output
    assert "too few calls" in shown.output and "no evidence" not in shown.output
    assert "only 1 team-periods: too few to say anything" in shown.output
    report = json.loads(runner.invoke(app, ["validity", "--store", str(store_path), "--json"]).stdout)
    csat = [e for e in report["effects"]["effects"] if e["outcome"] == "csat" and e["item_id"] == "greeting"]
    assert csat and csat[0]["n_pass"] + csat[0]["n_fail"] == 2  # en01 and en02 answered; en03's 7 refused
