"""The voice of the customer in numbers, per contact reason, queue and period: volume, first-contact
resolution, repeat rate (as the customer said it, and from the contact history: the same customer id
within N days), effort and the sentiment shift from start to end, each share with its Wilson interval;
the reasons repeat contacts (either kind) are about, most first; and the reasons along the customer journey
(each reason's stage from its taxonomy), for journey-map work. Fields a person should still check are
counted apart ("unsure"), not guessed into the figures."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from statistics import mean
from typing import Any

from pydantic import BaseModel

from qa_pipeline.control.agreement import Interval, wilson_interval
from qa_pipeline.control.calibration import period_of
from qa_pipeline.models import CallMetadata
from qa_pipeline.store.database import Store
from qa_pipeline.voc.repeats import DEFAULT_REPEAT_DAYS, ContactHistory, contact_histories
from qa_pipeline.voc.taxonomy import shipped_taxonomies

SENTIMENT_RANK = {"negative": 0, "neutral": 1, "positive": 2}


class VocGroup(BaseModel):
    reason: str
    queue: str
    period: str
    contacts: int
    resolved: Interval
    resolved_unsure: int
    repeat: Interval
    repeat_by_customer: Interval  # over the contacts with a customer id and a date
    mean_effort: float | None
    sentiment_better: Interval
    sentiment_worse: Interval


class JourneyRow(BaseModel):
    """One reason at its stage of the customer journey, over every queue and period."""

    stage: str
    reason_path: list[str]
    contacts: int
    resolved: Interval
    repeat: Interval
    repeat_by_customer: Interval
    mean_effort: float | None
    churn_risk: Interval


class VocSummary(BaseModel):
    contacts: int = 0
    groups: list[VocGroup]
    repeat_causes: list[tuple[str, int]]
    journey: list[JourneyRow] = []
    repeat_days: int = DEFAULT_REPEAT_DAYS


NO_STAGE = "(no stage)"


def voc_summary(
    store: Store,
    stage_order: list[str] | None = None,
    repeat_days: int = DEFAULT_REPEAT_DAYS,
    *,
    metadata: Mapping[str, CallMetadata] | None = None,
    histories: Mapping[str, ContactHistory] | None = None,
) -> VocSummary:
    """`stage_order`: the journey's stages in order (default the shipped taxonomies'); others follow.
    `repeat_days`: a contact from the same customer within this many days before is a repeat.
    `metadata` and `histories`: the store's, when the caller has read them already."""
    if stage_order is None:
        stage_order = list(dict.fromkeys(s for t in shipped_taxonomies() for s in t.stages))
    if metadata is None:
        metadata = {r.call_id: r.metadata for r in store.calls()}
    if histories is None:
        histories = contact_histories(metadata, repeat_days)
    by_group: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    by_stage: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    causes: Counter[str] = Counter()
    contacts = 0
    for record in store.voc_records():
        contacts += 1
        history = histories.get(record["call_id"])
        record = {**record, "_history": None if history is None else history.is_repeat}
        meta = metadata.get(record["call_id"])
        key = (record["reason_path"][0], (meta.queue if meta else None) or "(no queue)", period_of(meta))
        by_group[key].append(record)
        by_stage[(record.get("stage") or NO_STAGE, tuple(record["reason_path"]))].append(record)
        if record["repeat_contact"]["value"] == "yes" or record["_history"]:
            causes["/".join(record["reason_path"])] += 1
    groups = [
        VocGroup(reason=reason, queue=queue, period=period, **_figures(records))
        for (reason, queue, period), records in sorted(by_group.items())
    ]
    order = {stage: index for index, stage in enumerate(stage_order or [])}
    journey = [
        JourneyRow(
            stage=stage,
            reason_path=list(path),
            contacts=len(records),
            resolved=_sure_share(records, "resolved", "yes"),
            repeat=_share(records, "repeat_contact", "yes"),
            repeat_by_customer=_history_share(records),
            mean_effort=_mean_effort(records),
            churn_risk=_share(records, "churn_risk", "yes"),
        )
        for (stage, path), records in sorted(
            by_stage.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][0], kv[0][1])
        )
    ]
    return VocSummary(
        contacts=contacts,
        groups=groups,
        repeat_causes=causes.most_common(),
        journey=journey,
        repeat_days=repeat_days,
    )


def _figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    shifts = [
        SENTIMENT_RANK[r["sentiment_end"]["value"]] - SENTIMENT_RANK[r["sentiment_start"]["value"]]
        for r in records
        if r["sentiment_start"]["value"] in SENTIMENT_RANK and r["sentiment_end"]["value"] in SENTIMENT_RANK
    ]
    return {
        "contacts": len(records),
        "resolved": _sure_share(records, "resolved", "yes"),
        "resolved_unsure": sum(bool(r["resolved"]["needs_human"]) for r in records),
        "repeat": _share(records, "repeat_contact", "yes"),
        "repeat_by_customer": _history_share(records),
        "mean_effort": _mean_effort(records),
        "sentiment_better": wilson_interval(sum(s > 0 for s in shifts), len(shifts)),
        "sentiment_worse": wilson_interval(sum(s < 0 for s in shifts), len(shifts)),
    }


def _share(records: list[dict[str, Any]], field: str, value: str) -> Interval:
    return wilson_interval(sum(r[field]["value"] == value for r in records), len(records))


def _history_share(records: list[dict[str, Any]]) -> Interval:
    """Repeats by contact history, over the contacts that have one (a customer id and a date)."""
    known = [r["_history"] for r in records if r["_history"] is not None]
    return wilson_interval(sum(known), len(known))


def _sure_share(records: list[dict[str, Any]], field: str, value: str) -> Interval:
    """Over the records whose field nobody needs to check (unsure ones are counted apart)."""
    return _share([r for r in records if not r[field]["needs_human"]], field, value)


def _mean_effort(records: list[dict[str, Any]]) -> float | None:
    efforts = [r["effort"]["value"] for r in records if isinstance(r["effort"]["value"], int)]
    return mean(efforts) if efforts else None
