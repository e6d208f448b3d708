"""Operational metrics from who spoke when: talk time, long silences, overtalk.

Word timestamps are used where present because segment boundaries include the pauses Whisper swallows;
segments the guard marked as known hallucinations are left out so invented text cannot hide a silence. A mono
call whose speakers were told apart is measured on its speaker turns, drawn over voice activity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from qa_pipeline.models import CallTimings, Overtalk, Segment, Silence, SpeakerTurn

MIN_SILENCE = 3.0
MIN_OVERTALK = 1.0
_JOIN_GAP = 0.5  # pauses between words shorter than this are still one stretch of talk

Interval = tuple[float, float]


def call_timings(
    segments: list[Segment], duration: float, turns: list[SpeakerTurn] | None = None
) -> CallTimings:
    """From the words of each speaker, or from a mono call's speaker `turns` where the speakers were told
    apart (drawn over voice activity with one speaker at a time, so no second counts for both)."""
    by_speaker: dict[str, list[Interval]] = defaultdict(list)
    if turns:
        for turn in turns:
            by_speaker[turn.speaker].append((turn.start, turn.end))
    else:
        for segment in segments:
            if "known_hallucination" in segment.flags:
                continue
            spans = [(w.start, w.end) for w in segment.words] or [(segment.start, segment.end)]
            by_speaker[segment.speaker].extend(spans)
    talk = {speaker: merge(spans, _JOIN_GAP) for speaker, spans in by_speaker.items()}

    everyone = merge([span for spans in talk.values() for span in spans], _JOIN_GAP)
    silences = [Silence(start=a, end=b) for a, b in gaps(everyone, 0.0, duration) if b - a > MIN_SILENCE]

    overtalks: list[Overtalk] = []
    if "agent" in talk and "customer" in talk:
        overtalks = [
            Overtalk(start=a, end=b)
            for a, b in merge(intersect(talk["agent"], talk["customer"]), _JOIN_GAP)
            if b - a > MIN_OVERTALK
        ]
    return CallTimings(
        talk_time={speaker: round(total(spans), 2) for speaker, spans in sorted(talk.items())},
        silence_total=round(sum(s.end - s.start for s in silences), 2),
        silences=silences,
        overtalk_total=round(sum(o.end - o.start for o in overtalks), 2),
        overtalks=overtalks,
    )


def merge(spans: Iterable[Interval], join_gap: float = 0.0) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + join_gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def gaps(spans: list[Interval], start: float, end: float) -> list[Interval]:
    """The stretches between `start` and `end` not covered by sorted, merged `spans`."""
    result: list[Interval] = []
    cursor = start
    for a, b in spans:
        if a > cursor:
            result.append((cursor, a))
        cursor = max(cursor, b)
    if end > cursor:
        result.append((cursor, end))
    return result


def intersect(first: list[Interval], second: list[Interval]) -> list[Interval]:
    """Overlaps of two sorted, merged interval lists (two-pointer sweep)."""
    result: list[Interval] = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            result.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result


def total(spans: list[Interval]) -> float:
    return sum(b - a for a, b in spans)
