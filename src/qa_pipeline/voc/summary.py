"""The voice of the customer in numbers, per contact reason, queue and period: volume, first-contact
resolution, repeat rate, effort and the sentiment shift from start to end, each share with its Wilson
interval; and the reasons repeat contacts are about, most first. Fields a person should still check are
counted apart ("unsure"), not guessed into the figures."""

from __future__ import annotations

from collections import Counter, defaultdict
from statistics import mean
from typing import Any

from pydantic import BaseModel

from qa_pipeline.agreement import Interval, wilson_interval
from qa_pipeline.calibration import period_of
from qa_pipeline.store import Store

SENTIMENT_RANK = {"negative": 0, "neutral": 1, "positive": 2}


class VocGroup(BaseModel):
    reason: str
    queue: str
    period: str
    contacts: int
    resolved: Interval
    resolved_unsure: int
    repeat: Interval
    mean_effort: float | None
    sentiment_better: Interval
    sentiment_worse: Interval


class VocSummary(BaseModel):
    groups: list[VocGroup]
    repeat_causes: list[tuple[str, int]]


def voc_summary(store: Store) -> VocSummary:
    metadata = {r.call_id: r.metadata for r in store.calls()}
    by_group: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    causes: Counter[str] = Counter()
    for record in store.voc_records():
        meta = metadata.get(record["call_id"])
        key = (record["reason_path"][0], (meta.queue if meta else None) or "(no queue)", period_of(meta))
        by_group[key].append(record)
        if record["repeat_contact"]["value"] == "yes":
            causes["/".join(record["reason_path"])] += 1
    groups = []
    for (reason, queue, period), records in sorted(by_group.items()):
        sure = [r for r in records if not r["resolved"]["needs_human"]]
        efforts = [r["effort"]["value"] for r in records if isinstance(r["effort"]["value"], int)]
        shifts = [
            SENTIMENT_RANK[r["sentiment_end"]["value"]] - SENTIMENT_RANK[r["sentiment_start"]["value"]]
            for r in records
            if r["sentiment_start"]["value"] in SENTIMENT_RANK
            and r["sentiment_end"]["value"] in SENTIMENT_RANK
        ]
        groups.append(
            VocGroup(
                reason=reason,
                queue=queue,
                period=period,
                contacts=len(records),
                resolved=wilson_interval(sum(r["resolved"]["value"] == "yes" for r in sure), len(sure)),
                resolved_unsure=len(records) - len(sure),
                repeat=wilson_interval(
                    sum(r["repeat_contact"]["value"] == "yes" for r in records), len(records)
                ),
                mean_effort=mean(efforts) if efforts else None,
                sentiment_better=wilson_interval(sum(s > 0 for s in shifts), len(shifts)),
                sentiment_worse=wilson_interval(sum(s < 0 for s in shifts), len(shifts)),
            )
        )
    return VocSummary(groups=groups, repeat_causes=causes.most_common())
