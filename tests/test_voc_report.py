"""The voice of the customer reaches the supervisor report and the exports: reasons by queue and along the
journey, item effects adjusted for the reasons the VoC stage found, EX-CX with its warning, and outcomes
from a synthetic file labelled as synthetic wherever they are shown."""

from __future__ import annotations

import csv
from pathlib import Path

from scored_store import SEEDS, fill_store
from typer.testing import CliRunner

from qa_pipeline.checklist import Checklist
from qa_pipeline.cli import app
from qa_pipeline.report import write_html_report
from qa_pipeline.report.data import build_report
from qa_pipeline.report.exports import export_tables
from qa_pipeline.store.database import Store
from qa_pipeline.voc.extract import VocField, VocRecord
from qa_pipeline.voc.outcomes import read_outcomes
from qa_pipeline.voc.taxonomy import shipped_taxonomies
from qa_pipeline.voc.validity import checklist_validity

# Billing for the first English calls, a faulty service for the rest.
REASONS = {
    "en01_billing_exemplary": ["billing", "billing_explain"],
    "en02_no_greeting": ["billing", "billing_wrong_charge"],
    "en03_no_identification": ["billing", "billing_refund"],
    "en04_rude_agent": ["account", "account_close"],
}


def _record(call_id: str, path: list[str], resolved: str, unsure: bool) -> VocRecord:
    [taxonomy] = [t for t in shipped_taxonomies() if t.language == "en"]
    return VocRecord(
        call_id=call_id,
        taxonomy=taxonomy.identity,
        reason=VocField(value=path[-1], confidence=0.9, source="llm"),
        reason_path=path,
        stage=taxonomy.stage_of(path),
        resolved=VocField(
            value=resolved, confidence=0.55 if unsure else 0.9, source="llm", needs_human=unsure
        ),
        repeat_contact=VocField(value="no", confidence=0.9, source="llm"),
        effort=VocField(value=2, confidence=0.9, source="llm"),
        effort_moments=[],
        sentiment_start=VocField(value="negative", confidence=0.9, source="llm"),
        sentiment_end=VocField(value="positive", confidence=0.9, source="llm"),
        churn_risk=VocField(value="yes" if "close" in path[-1] else "no", confidence=0.9, source="llm"),
        competitors=[],
        model="test",
        prompt="test",
    )


def _store_with_customers(
    tmp_path: Path, changes: dict[tuple[str, str], str | int] | None = None
) -> tuple[Store, dict[str, Checklist]]:
    store = Store(tmp_path / "qa.sqlite")
    checklists = fill_store(store, changes)
    for number, record in enumerate(store.calls()):
        reason = REASONS.get(record.call_id, ["service", "service_fault"])
        saved = _record(record.call_id, reason, "no" if number % 4 == 0 else "yes", unsure=number == 5)
        store.save_voc(record.call_id, f"voc-{record.call_id}", saved.model_dump(mode="json"))
    for outcomes in sorted((SEEDS / "outcomes").glob("*.csv")):
        read = read_outcomes(outcomes)
        assert not read.problems
        store.save_outcomes(read.surveys, read.enps)
    return store, checklists


def test_the_report_shows_the_customer_section_labelled_synthetic(tmp_path: Path) -> None:
    store, checklists = _store_with_customers(tmp_path)
    data = build_report(store, checklists, pool_items=True)
    assert data.customer is not None and data.customer.voc.contacts == 12
    assert data.customer.sources == ["synthetic-enps.csv", "synthetic-surveys.csv"]
    stages = [row.stage for row in data.customer.voc.journey]
    assert stages == sorted(stages, key=["buy", "use", "pay", "leave"].index)  # journey order, not names
    assert ("leave", ["account", "account_close"]) in [
        (r.stage, r.reason_path) for r in data.customer.voc.journey
    ]
    html = write_html_report(data, tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="customer"' in html and "These outcomes are synthetic" in html
    assert "Reasons along the customer journey" in html and "account / account_close" in html
    assert "too few team-periods to say anything" in html  # five teams' eNPS, fewer than eight
    ru = write_html_report(build_report(store, checklists, language="ru"), tmp_path / "ru.html")
    assert "Эти оценки синтетические" in ru.read_text(encoding="utf-8")


def test_a_report_without_customer_data_has_no_customer_section(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    checklists = fill_store(store)
    data = build_report(store, checklists)
    assert data.customer is None
    assert 'id="customer"' not in write_html_report(data, tmp_path / "r.html").read_text(encoding="utf-8")


def test_item_effects_are_adjusted_for_the_reasons_the_voc_stage_found(tmp_path: Path) -> None:
    # en02 (billing) and en05 (service) fail the greeting, en01 and en06 pass it, all in one queue.
    store, checklists = _store_with_customers(tmp_path, {("en05_unresolved", "greeting"): "no"})
    effects = checklist_validity(store, checklists, reps=200).effects
    greeting = next(
        e
        for e in effects.effects
        if e.item_id == "greeting" and e.outcome == "csat" and e.checklist_id.endswith("-en")
    )
    # Both reasons hold a passing and a failing call: two strata, where one stratum for the queue
    # would mean the reason was never adjusted for.
    assert greeting.strata == 2 and effects.adjusted_for == ["reason", "queue"]


def test_exports_carry_item_effects_and_the_journey(tmp_path: Path) -> None:
    store, checklists = _store_with_customers(tmp_path)
    written = export_tables(store, checklists, tmp_path / "out", "csv")
    with written["item_effects"][0].open(encoding="utf-8-sig") as handle:
        effects = list(csv.DictReader(handle))
    assert effects and {row["verdict"] for row in effects} <= {
        "too few calls",
        "no evidence",
        "failing it goes with worse outcomes",
        "failing it goes with better outcomes",
    }
    assert {row["adjusted_for"] for row in effects} == {"reason,queue"}
    with written["voc_journey"][0].open(encoding="utf-8-sig") as handle:
        journey = {row["reason_path"]: row for row in csv.DictReader(handle)}
    assert journey["account/account_close"]["stage"] == "leave"
    assert float(journey["account/account_close"]["churn_risk"]) == 1.0
    with written["voc"][0].open(encoding="utf-8-sig") as handle:
        stages = {row["call_id"]: row["stage"] for row in csv.DictReader(handle)}
    assert stages["en01_billing_exemplary"] == "pay"


def test_validity_names_its_outcome_files_and_says_they_are_synthetic(tmp_path: Path) -> None:
    store, _ = _store_with_customers(tmp_path)
    shown = CliRunner().invoke(app, ["validity", "--store", str(store.url).removeprefix("sqlite:///")])
    assert shown.exit_code == 0, shown.output
    assert "synthetic-surveys.csv" in shown.output and "SYNTHETIC" in shown.output
    assert "Reasons along the customer journey" in shown.output
