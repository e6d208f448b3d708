"""Results as tables for BI tools: CSV, JSON Lines or Parquet, one file per table, stable columns.

Tables (columns in README): calls, segments, scorecards, verdicts (one row per call and item), reviews,
overrides, agreement (per item, AI vs controllers), voc (per conversation), outcomes (survey answers),
item_effects (per item and outcome, adjusted for reason and queue: voc/effects.py) and voc_journey
(reasons by journey stage). CSV cells that a spreadsheet would run as a formula are neutralised and
control characters dropped (control/spreadsheets.cell_safe); JSON Lines and Parquet keep the text as it
is. Rows go to the files as they are read from the store (Parquet a row group at a time), so a table of
any length is written in bounded memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.spreadsheets import cell_safe
from qa_pipeline.control.workflow import agreement_report
from qa_pipeline.models import HumanReview, Override, Scorecard
from qa_pipeline.store.database import Store
from qa_pipeline.voc.repeats import DEFAULT_REPEAT_DAYS, ContactHistory, contact_histories
from qa_pipeline.voc.validity import Validity, checklist_validity

Format = Literal["csv", "jsonl", "parquet"]

# Column name -> type ("str", "float", "int", "bool"): the contract with BI tools; add, never rename.
TABLES: dict[str, dict[str, str]] = {
    "calls": {
        "call_id": "str", "audio_path": "str", "duration_s": "float", "agent": "str", "team": "str",
        "queue": "str", "date": "str", "language": "str", "company": "str", "channel": "str",
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
    "voc": {
        "call_id": "str", "reason": "str", "reason_path": "str", "resolved": "str", "repeat_contact": "str",
        "repeat_cause": "str", "effort": "int", "sentiment_start": "str", "sentiment_end": "str",
        "churn_risk": "str", "needs_human": "str", "stage": "str", "repeat_by_customer": "str",
        "previous_contact": "str",
    },
    "outcomes": {
        "call_id": "str", "customer_id": "str", "date": "str", "csat": "float", "nps": "float",
        "ces": "float", "source": "str",
    },
    "item_effects": {
        "checklist_id": "str", "item_id": "str", "outcome": "str", "n_pass": "int", "n_fail": "int",
        "strata": "int", "raw_difference": "float", "difference": "float", "low": "float", "high": "float",
        "verdict": "str", "adjusted_for": "str", "comparisons": "int",
    },
    "voc_journey": {
        "stage": "str", "reason_path": "str", "contacts": "int", "resolved": "float", "repeat": "float",
        "repeat_by_customer": "float", "mean_effort": "float", "churn_risk": "float",
    },
}  # fmt: skip


Row = dict[str, Any]
PARQUET_ROWS = 10_000
"""Rows per Parquet row group: the writer holds one group in memory at a time."""


def tables(
    store: Store, checklists: dict[str, Checklist], repeat_days: int = DEFAULT_REPEAT_DAYS
) -> Iterator[tuple[str, Iterator[Row]]]:
    """Each table's rows, read lazily from the store, in the order they are written: segments come
    before calls, since the one pass over transcripts also notes each call's channel for the calls
    table."""
    channels: dict[str, str] = {}
    yield "segments", _segment_rows(store, channels)
    yield "calls", _call_rows(store, channels)
    yield "scorecards", (_scorecard_row(card) for card in store.scorecards())
    yield "verdicts", (row for card in store.scorecards() for row in _verdict_rows(card))
    reviews = store.human_reviews()
    yield "reviews", (_review_row(review) for review in reviews)
    yield "overrides", (_override_row(override) for override in store.overrides())
    yield "agreement", _agreement_rows(store, checklists) if reviews else iter([])
    yield "voc", _voc_rows(store, repeat_days)
    yield "outcomes", (survey.model_dump() for survey in store.survey_answers())
    validity = (
        checklist_validity(store, checklists, repeat_days=repeat_days) if store.has_customer_data() else None
    )
    yield "item_effects", _effect_rows(validity)
    yield "voc_journey", _journey_rows(validity)


def _effect_rows(validity: Validity | None) -> Iterator[Row]:
    if validity is None:
        return
    effects = validity.effects
    for effect in effects.effects:
        yield {
            **effect.model_dump(),
            "adjusted_for": ",".join(effects.adjusted_for),
            "comparisons": effects.comparisons,
        }


def _journey_rows(validity: Validity | None) -> Iterator[Row]:
    """The reasons along the customer journey; shares over the conversations each one counts."""
    for row in validity.voc.journey if validity else []:
        yield {
            "stage": row.stage,
            "reason_path": "/".join(row.reason_path),
            "contacts": row.contacts,
            "resolved": row.resolved.value,
            "repeat": row.repeat.value,
            "repeat_by_customer": row.repeat_by_customer.value,
            "mean_effort": row.mean_effort,
            "churn_risk": row.churn_risk.value,
        }


def _voc_rows(store: Store, repeat_days: int) -> Iterator[Row]:
    """Each conversation's VoC record, with its place in the customer's contact history (read only when
    there are records: the history needs every call's metadata)."""
    histories = None
    for record in store.voc_records():
        if histories is None:
            histories = contact_histories({r.call_id: r.metadata for r in store.calls()}, repeat_days)
        yield _voc_row(record, histories.get(record["call_id"]))


def _voc_row(record: dict[str, Any], history: ContactHistory | None = None) -> Row:
    """One conversation's voice of the customer; a field a person should check is named in needs_human."""
    fields = ("resolved", "repeat_contact", "effort", "sentiment_start", "sentiment_end", "churn_risk")
    unsure = [name for name in ("reason", *fields) if record[name]["needs_human"]]
    repeat = record["repeat_contact"]
    return {
        "call_id": record["call_id"],
        "reason": record["reason"]["value"],
        "reason_path": "/".join(record["reason_path"]),
        **{name: record[name]["value"] for name in fields},
        "repeat_cause": repeat["evidence"] if repeat["value"] == "yes" else "",
        "needs_human": ",".join(unsure),
        "stage": record.get("stage") or "",
        "repeat_by_customer": "" if history is None else ("yes" if history.is_repeat else "no"),
        "previous_contact": (history.previous if history else None) or "",
    }


def _segment_rows(store: Store, channels: dict[str, str]) -> Iterator[Row]:
    for transcript in store.transcripts():
        channels[transcript.call_id] = transcript.channel
        for index, segment in enumerate(transcript.segments):
            yield {
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


def _call_rows(store: Store, channels: dict[str, str]) -> Iterator[Row]:
    for record in store.calls():
        meta = record.metadata
        yield (
            {"call_id": record.call_id, "audio_path": record.audio_path, "duration_s": record.duration}
            | {"channel": channels.get(record.call_id)}
            | {
                field: getattr(meta, field)
                for field in ("agent", "team", "queue", "date", "language", "company")
            }
        )


def _scorecard_row(card: Scorecard) -> Row:
    return {
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


def _verdict_rows(card: Scorecard) -> Iterator[Row]:
    for verdict in card.verdicts:
        evidence = verdict.evidence[0] if verdict.evidence else None
        yield {
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


def _review_row(review: HumanReview) -> Row:
    return review.model_dump(exclude={"source"}) | {"answer": str(review.answer)}


def _override_row(override: Override) -> Row:
    return override.model_dump() | {
        "answer": str(override.answer),
        "ai_answer": None if override.ai_answer is None else str(override.ai_answer),
    }


def _agreement_rows(store: Store, checklists: dict[str, Checklist]) -> Iterator[Row]:
    for item in agreement_report(store, checklists, reps=200).items:
        stats = item.ai_human
        yield {
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


def export_tables(
    store: Store,
    checklists: dict[str, Checklist],
    out: Path,
    fmt: Format,
    repeat_days: int = DEFAULT_REPEAT_DAYS,
) -> dict[str, tuple[Path, int]]:
    """Every table written to OUT/<table>.<format> row by row as it is read from the store; returns each
    file and its row count, in the order of `TABLES`. `repeat_days`: the window of a repeat contact."""
    out.mkdir(parents=True, exist_ok=True)
    writer = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}[fmt]
    written = {}
    for name, rows in tables(store, checklists, repeat_days):
        path = out / f"{name}.{fmt}"
        columns = list(TABLES[name])
        written[name] = (path, writer(path, name, ({c: row.get(c) for c in columns} for row in rows)))
    return {name: written[name] for name in TABLES}


def _write_csv(path: Path, name: str, rows: Iterable[Row]) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel reads UTF-8
        writer = csv.DictWriter(handle, fieldnames=list(TABLES[name]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: cell_safe(v) for k, v in row.items()})
            count += 1
    return count


def _write_jsonl(path: Path, name: str, rows: Iterable[Row]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def _write_parquet(path: Path, name: str, rows: Iterable[Row]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"str": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}
    schema = pa.schema([(column, types[kind]) for column, kind in TABLES[name].items()])
    count = 0
    rows = iter(rows)
    with pq.ParquetWriter(path, schema) as writer:
        while group := list(islice(rows, PARQUET_ROWS)):
            writer.write_table(pa.Table.from_pylist(group, schema=schema))
            count += len(group)
    return count
