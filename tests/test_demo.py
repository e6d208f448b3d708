"""The demo ends with the voice of the customer: a VoC record per demo call from the judge's model, the
shipped synthetic outcomes imported, and the validity analysis in the result and the report, labelled
synthetic (one real demo call, the small bundled models)."""

from __future__ import annotations

from pathlib import Path

from qa_pipeline import JudgeOptions, TranscribeOptions, Workspace
from qa_pipeline.demo import DemoOptions, run_demo


def test_the_demo_ends_with_the_voice_of_the_customer_on_synthetic_outcomes(tmp_path: Path) -> None:
    options = DemoOptions(
        transcribe=TranscribeOptions(whisper_model="bundled:tiny.en", language="en", device="cpu"),
        judge=JudgeOptions(backend="llama", model="bundled:smollm2", device="cpu"),
        limit=1,
    )
    result = run_demo(Workspace(tmp_path / "work"), options)
    assert result.ok and result.customer is not None
    [record] = result.customer.records
    assert record.call_id == result.calls[0].call_id and record.reason_path
    assert [p.name for p in result.customer.outcome_files] == ["synthetic-enps.csv", "synthetic-surveys.csv"]
    validity = result.customer.validity
    assert validity.synthetic and validity.voc.contacts == 1
    assert all(e.verdict == "too few calls" for e in validity.effects.effects)  # one call says nothing
    html = result.report.read_text(encoding="utf-8")
    assert 'id="customer"' in html and "These outcomes are synthetic" in html
