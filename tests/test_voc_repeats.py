"""Repeat contacts from the contact history (the same customer_id within N days), beside what customers
say: in the VoC summary, the report, the exports and the outcome that checklist validity uses."""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import typed_transcript
from test_voc_report import _record
from typer.testing import CliRunner

from qa_pipeline.cli import app
from qa_pipeline.models import AudioInfo, Call, CallMetadata
from qa_pipeline.report import write_html_report
from qa_pipeline.report.data import build_report
from qa_pipeline.report.exports import export_tables
from qa_pipeline.store.database import Store
from qa_pipeline.voc.effects import call_outcomes
from qa_pipeline.voc.repeats import contact_histories
from qa_pipeline.voc.summary import voc_summary

# Ann calls three times (twice within a week, then after a fortnight), Boris once, a chat has no customer.
CONTACTS = {
    "c1": ("ann", "2026-10-01"),
    "c2": ("ann", "2026-10-05T09:30"),
    "c3": ("ann", "2026-10-19"),
    "c4": ("boris", "2026-10-02"),
    "c5": (None, "2026-10-03"),
}


def _metadata() -> dict[str, CallMetadata]:
    return {
        call_id: CallMetadata(customer_id=customer, date=day, queue="support", language="en")
        for call_id, (customer, day) in CONTACTS.items()
    }


def test_a_contact_is_a_repeat_when_the_same_customer_came_within_the_window() -> None:
    week = contact_histories(_metadata(), days=7)
    assert set(week) == {"c1", "c2", "c3", "c4"}  # no customer id: no history
    assert (week["c1"].previous, week["c1"].next) == (None, "c2")
    assert (week["c2"].previous, week["c2"].next) == ("c1", None)
    assert not week["c3"].is_repeat and not week["c4"].is_repeat
    month = contact_histories(_metadata(), days=30)
    assert month["c3"].previous == "c2" and month["c2"].next == "c3"
    # the outcome checklist validity joins: "this call was followed by a repeat"
    assert {c: o["repeat"] for c, o in call_outcomes([], _metadata(), 7).items()} == {
        "c1": 1.0,
        "c2": 0.0,
        "c3": 0.0,
        "c4": 0.0,
    }


def _store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "qa.sqlite")
    for call_id, meta in _metadata().items():
        call = Call(
            call_id=call_id,
            audio_path=f"{call_id}.txt",
            audio=AudioInfo(duration=10.0, sample_rate=16000, channels=2, codec="pcm", sha256=call_id * 32),
            metadata=meta,
        )
        transcript = typed_transcript(("customer", "My bill is wrong."), ("agent", "I will fix it."))
        store.save_transcript(f"key-{call_id}", call, transcript.model_copy(update={"call_id": call_id}))
        record = _record(call_id, ["billing", "billing_wrong_charge"], "yes", unsure=False)
        store.save_voc(call_id, f"voc-{call_id}", record.model_dump(mode="json"))
    return store


def test_the_summary_report_and_exports_show_repeats_by_history_beside_what_was_said(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    [group] = voc_summary(store, repeat_days=7).groups
    assert group.repeat.value == 0.0  # nobody said so ...
    assert group.repeat_by_customer.value == 0.25  # ... c2 is one of the four with a history
    [row] = voc_summary(store, repeat_days=7).journey
    assert row.repeat_by_customer.value == 0.25
    assert voc_summary(store, repeat_days=30).groups[0].repeat_by_customer.value == 0.5
    assert voc_summary(store).repeat_causes == [("billing/billing_wrong_charge", 1)]

    written = export_tables(store, {}, tmp_path / "tables", "csv", repeat_days=7)
    with written["voc"][0].open(encoding="utf-8-sig") as handle:
        rows = {r["call_id"]: r for r in csv.DictReader(handle)}
    assert {c: (r["repeat_by_customer"], r["previous_contact"]) for c, r in rows.items()} == {
        "c1": ("no", ""),
        "c2": ("yes", "c1"),
        "c3": ("no", ""),
        "c4": ("no", ""),
        "c5": ("", ""),
    }

    store.save_outcomes([], [])
    html = write_html_report(build_report(store, {}, repeat_days=30), tmp_path / "report.html").read_text()
    assert "Repeat by contact history" in html and "within 30" in html


def test_the_window_is_an_option_of_export_and_refuses_a_negative_one(tmp_path: Path) -> None:
    store = _store(tmp_path)
    url = f"sqlite:///{tmp_path / 'qa.sqlite'}"
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["export", "--store", url, "--out", str(out), "--repeat-days", "30"])
    assert result.exit_code == 0, result.output
    with (out / "voc.csv").open(encoding="utf-8-sig") as handle:
        assert {r["call_id"]: r["previous_contact"] for r in csv.DictReader(handle)}["c3"] == "c2"
    refused = CliRunner().invoke(app, ["export", "--store", url, "--out", str(out), "--repeat-days", "-1"])
    assert refused.exit_code != 0
    assert store.voc_records(["c1"])
