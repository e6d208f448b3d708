"""The calibration's result as files: JSON for tools, a per-item CSV for spreadsheets."""

from __future__ import annotations

import csv
from pathlib import Path

from qa_pipeline.control.calibration import AgreementReport
from qa_pipeline.transcription.batch import write_json_atomic


def write_agreement(report: AgreementReport, out: Path) -> Path:
    """Write everything as JSON at `out` and one row per item as CSV beside it; returns the CSV's path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, report)
    table = out.with_suffix(".csv")
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "group",
                "item_id",
                "method",
                "n",
                "agreement",
                "agreement_low",
                "agreement_high",
                "kappa",
                "ac1",
                "ac1_low",
                "ac1_high",
                "alignment",
                "human_human_n",
                "human_human_agreement",
                "overrides",
                "trust",
                "reason",
            ]
        )
        for item in report.items:
            a, hh = item.ai_human, item.human_human
            writer.writerow(
                [
                    item.group,
                    item.item_id,
                    item.method,
                    a.n,
                    a.agreement.value,
                    a.agreement.low,
                    a.agreement.high,
                    a.kappa.value,
                    a.ac1.value,
                    a.ac1.low,
                    a.ac1.high,
                    a.alignment,
                    hh.n if hh else 0,
                    hh.agreement.value if hh else None,
                    item.overrides,
                    item.trust.status,
                    item.trust.reason,
                ]
            )
    return table
