"""Results as tables for BI tools: CSV, JSON Lines or Parquet, one file per table, stable columns.

Tables (columns in README): calls, segments, scorecards, verdicts (one row per call and item), reviews,
overrides and agreement (per item, AI vs controllers). CSV cells that a spreadsheet would run as a
formula are neutralised and control characters dropped (spreadsheets.cell_safe); JSON Lines and Parquet
keep the text as it is.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from qa_pipeline.checklist import Checklist
from qa_pipeline.human_control import agreement_report
from qa_pipeline.spreadsheets import cell_safe
from qa_pipeline.store import Store

Format = Literal["csv", "jsonl", "parquet"]

# Column name -> type ("str", "float", "int", "bool"): the contract with BI tools; add, never rename.
TABLES: dict[str, dict[str, str]] = {
    "calls": {
        "call_id": "str", "audio_path": "str", "duration_s": "float", "agent": "str", "team": "str",
        "queue": "str", "date": "str", "language": "str", "company": "str",
    },
    "segments": {
        "call_id": "str", "segment": "int", "speaker": "str", "start_s": "float", "end_s": "float",
        "text": "str", "avg_logprob": "float", "no_speech_prob": "float", "flags": "str",
    },
    "scorecards": {
        "call_id": "str", "checklist_id": "str", "checklist_version": "str", "total": "float",
        "complete": "bool", "provisional": "str", "points_share": "float", "manipulation_attempt": "str",
        "failed_critical": "str", "flagged_critical": "str", "judge_backend": "str", "judge_model": "str",
        "judge_mode": "str",
    },
    "verdicts": {
        "call_id": "str", "checklist_id": "str", "item_id": "str", "answer": "str", "source": "str",
        "confidence": "float", "needs_human": "bool", "flags": "str", "evidence_quote": "str",
        "evidence_speaker": "str", "evidence_start_s": "float", "evidence_end_s": "float",
        "rationale": "str",
    },
    "reviews": {
        "call_id": "str", "checklist_id": "str", "item_id": "str", "reviewer": "str", "answer": "str",
        "comment": "str",
    },
    "overrides": {
        "call_id": "str", "checklist_id": "str", "item_id": "str", "supervisor": "str", "ai_answer": "str",
        "answer": "str", "comment": "str",
    },
    "agreement": {
        "group": "str", "item_id": "str", "method": "str", "reviewed": "int", "agreement": "float",
        "agreement_low": "float", "agreement_high": "float", "kappa": "float", "ac1": "float",
        "trust": "str",
    },
}  # fmt: skip


def table_rows(store: Store, checklists: dict[str, Checklist]) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for call_id, record in sorted(store.call_records().items()):
        meta = record["metadata"]
        rows["calls"].append(
            {"call_id": call_id, "audio_path": record["audio_path"], "duration_s": record["duration"]}
            | {
                field: getattr(meta, field)
                for field in ("agent", "team", "queue", "date", "language", "company")
            }
        )
    for transcript in store.transcripts():
        for index, segment in enumerate(transcript.segments):
            rows["segments"].append(
                {
                    "call_id": transcript.call_id,
                    "segment": index,
                    "speaker": segment.speaker,
                    "start_s": segment.start,
                    "end_s": segment.end,
                    "text": segment.text,
                    "avg_logprob": segment.avg_logprob,
                    "no_speech_prob": segment.no_speech_prob,
                    "flags": ";".join(segment.flags),
                }
            )
    for card in store.scorecards():
        rows["scorecards"].append(
            {
                "call_id": card.call_id,
                "checklist_id": card.checklist_id,
                "checklist_version": card.checklist_version,
                "total": card.total,
                "complete": card.complete,
                # why the total waits for a person; an empty cell is a total people can stand behind
                "provisional": ";".join(card.provisional),
                "points_share": card.points_share,
                "manipulation_attempt": " | ".join(
                    f"{a.speaker} {a.start:.1f}-{a.end:.1f} s: {a.quote}" for a in card.manipulation
                )
                or None,
                "failed_critical": ";".join(card.failed_critical),
                "flagged_critical": ";".join(card.flagged_critical),
                "judge_backend": card.judge.get("backend"),
                "judge_model": card.judge.get("model"),
                "judge_mode": card.judge.get("mode"),
            }
        )
        for verdict in card.verdicts:
            evidence = verdict.evidence[0] if verdict.evidence else None
            rows["verdicts"].append(
                {
                    "call_id": card.call_id,
                    "checklist_id": card.checklist_id,
                    "item_id": verdict.item_id,
                    "answer": None if verdict.answer is None else str(verdict.answer),
                    "source": verdict.source,
                    "confidence": verdict.confidence,
                    "needs_human": verdict.needs_human,
                    "flags": ";".join(verdict.flags),
                    "evidence_quote": evidence.quote if evidence else None,
                    "evidence_speaker": evidence.speaker if evidence else None,
                    "evidence_start_s": evidence.start if evidence else None,
                    "evidence_end_s": evidence.end if evidence else None,
                    "rationale": verdict.rationale,
                }
            )
    for review in store.human_reviews():
        rows["reviews"].append(review.model_dump(exclude={"source"}) | {"answer": str(review.answer)})
    for override in store.overrides():
        rows["overrides"].append(
            override.model_dump()
            | {
                "answer": str(override.answer),
                "ai_answer": None if override.ai_answer is None else str(override.ai_answer),
            }
        )
    if rows["reviews"]:
        report = agreement_report(store, checklists, reps=200)
        for item in report.items:
            stats = item.ai_human
            rows["agreement"].append(
                {
                    "group": item.group,
                    "item_id": item.item_id,
                    "method": item.method,
                    "reviewed": stats.n,
                    "agreement": stats.agreement.value,
                    "agreement_low": stats.agreement.low,
                    "agreement_high": stats.agreement.high,
                    "kappa": stats.kappa.value,
                    "ac1": stats.ac1.value,
                    "trust": item.trust.status,
                }
            )
    return {
        name: [{column: row.get(column) for column in TABLES[name]} for row in table]
        for name, table in rows.items()
    }


def export_tables(
    store: Store, checklists: dict[str, Checklist], out: Path, fmt: Format
) -> dict[str, tuple[Path, int]]:
    """Every table written to OUT/<table>.<format>; returns each file and its row count."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, rows in table_rows(store, checklists).items():
        path = out / f"{name}.{fmt}"
        {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}[fmt](path, name, rows)
        written[name] = (path, len(rows))
    return written


def _write_csv(path: Path, name: str, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel reads UTF-8
        writer = csv.DictWriter(handle, fieldnames=list(TABLES[name]))
        writer.writeheader()
        writer.writerows({k: cell_safe(v) for k, v in row.items()} for row in rows)


def _write_jsonl(path: Path, name: str, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write_parquet(path: Path, name: str, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"str": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}
    schema = pa.schema([(column, types[kind]) for column, kind in TABLES[name].items()])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
