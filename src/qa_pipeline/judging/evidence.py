"""Check the judge's quotes against the transcript and give them speaker and timestamps.

A quote the transcript does not contain, or that comes from a line outside the item's scope (the other
speaker, outside its window), is not evidence: it is flagged and lowers the verdict's confidence. Matching
is fuzzy (rapidfuzz partial alignment on normalised text) because the judge may fix casing, punctuation or
an ASR slip while quoting.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from qa_pipeline.checklist import Scope
from qa_pipeline.models import Evidence, Segment, Transcript
from qa_pipeline.transcription.guard import normalise

MATCH_THRESHOLD = 80.0


def locate_quote(quote: str, transcript: Transcript, scope: Scope | None = None) -> Evidence:
    """The line the quote comes from, among the lines the item may rest on (its speaker and window).

    The whole quote must be found: a short line inside a longer invented quote ("yes" inside "yes, I have
    verified your identity fully") is no evidence. A one-word quote must be one of the line's words.
    """
    wanted = normalise(quote)
    if not wanted:
        return Evidence(quote=quote)
    lines = in_scope_lines(transcript, scope) if scope is not None else None
    best: tuple[float, Segment, int, int] | None = None
    for number, segment in enumerate(transcript.segments, start=1):
        text = normalise(segment.text)
        if not text or (lines is not None and number not in lines):
            continue
        found = _find(wanted, text)
        if found is not None and (best is None or found[0] > best[0]):
            best = (found[0], segment, found[1], found[2])
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


def _find(wanted: str, text: str) -> tuple[float, int, int] | None:
    """(score, start, end) of the quote in a line's text, scored over the whole quote."""
    if " " not in wanted:
        offset = 0
        for token in text.split(" "):
            if token == wanted:
                return 100.0, offset, offset + len(token)
            offset += len(token) + 1
        return 0.0, 0, 0
    if len(text) < len(wanted):  # the line can only be part of the quote: score quote against line
        return fuzz.ratio(wanted, text), 0, len(text)
    alignment = fuzz.partial_ratio_alignment(wanted, text)
    if alignment is None:
        return None
    return alignment.score, alignment.dest_start, alignment.dest_end


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
