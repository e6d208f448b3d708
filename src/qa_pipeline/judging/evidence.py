"""Check the judge's quotes against the transcript and give them speaker and timestamps.

A quote the transcript does not contain is not evidence: it is flagged and lowers the verdict's
confidence. Matching is fuzzy (rapidfuzz partial alignment on normalised text) because the judge may fix
casing, punctuation or an ASR slip while quoting.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from qa_pipeline.checklist import Scope
from qa_pipeline.guard import normalise
from qa_pipeline.models import Evidence, Segment, Transcript

MATCH_THRESHOLD = 80.0
MIN_QUOTE_WORDS = 2


def locate_quote(quote: str, transcript: Transcript) -> Evidence:
    wanted = normalise(quote)
    if len(wanted.split()) < MIN_QUOTE_WORDS:
        return Evidence(quote=quote)
    best: tuple[float, Segment, int, int] | None = None
    for segment in transcript.segments:
        text = normalise(segment.text)
        if not text:
            continue
        alignment = fuzz.partial_ratio_alignment(wanted, text)
        if alignment is not None and (best is None or alignment.score > best[0]):
            best = (alignment.score, segment, alignment.dest_start, alignment.dest_end)
    if best is None or best[0] < MATCH_THRESHOLD:
        return Evidence(quote=quote, match_score=round(best[0], 1) if best else 0.0)
    score, segment, start_char, end_char = best
    start, end = _time_span(segment, start_char, end_char)
    return Evidence(
        quote=quote,
        matched=True,
        speaker=segment.speaker,
        start=start,
        end=end,
        match_score=round(score, 1),
    )


def _time_span(segment: Segment, start_char: int, end_char: int) -> tuple[float, float]:
    """Narrow the segment's times to the matched words where word timestamps exist."""
    if not segment.words:
        return segment.start, segment.end
    offset = 0
    times: list[tuple[float, float]] = []
    for word in segment.words:
        token = normalise(word.word)
        if not token:
            continue
        word_start, word_end = offset, offset + len(token)
        if word_end > start_char and word_start < end_char:
            times.append((word.start, word.end))
        offset = word_end + 1
    if not times:
        return segment.start, segment.end
    return times[0][0], times[-1][1]


def in_scope_lines(transcript: Transcript, scope: Scope) -> list[int]:
    """1-based numbers of the transcript lines an item may rest on: its speaker, inside its window."""
    window = scope.window
    numbers = []
    for number, segment in enumerate(transcript.segments, start=1):
        if scope.speaker != "both" and segment.speaker != scope.speaker:
            continue
        if window is not None and window.first_seconds is not None and segment.start >= window.first_seconds:
            continue
        last = window.last_seconds if window is not None else None
        if last is not None and segment.end <= transcript.duration - last:
            continue
        numbers.append(number)
    return numbers
