"""Redact a transcript across its segments: a number read out in pieces is still one number.

Batched decoding splits speech at pauses, so a card read as "4276" ... "3800" ... "1234" ... "5679"
arrives as four segments, each too short to look personal. Each speaker's segments are joined in time
order (a long pause still ends a number), found spans are cut back into the segments they cover, and
every piece keeps its segment's speaker and its words' times, so the recording can be muted there.
A conversation without times (a chat) goes by turn order: a number may run on over one side's turns in a
row, and the other side's question is what they wrote since this side's previous turn.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa_pipeline.models import Redaction, Segment, Transcript, Word
from qa_pipeline.redaction.detect import Question, Span, find_personal_data

MAX_PAUSE = 6.0  # seconds between one speaker's segments that still continue one number
QUESTION_WINDOW = 15.0  # seconds after the other side's question in which an answer is its answer
_TRIM = " \t\n,.;:-–—"


def redact_transcript(transcript: Transcript) -> Transcript:
    """The transcript with `[kind]` in place of personal data, and where each was said."""
    segments, redactions = [], list(transcript.redactions)
    spans_by_segment = segment_spans(transcript.segments, timed=transcript.timed)
    for segment, spans in zip(transcript.segments, spans_by_segment, strict=True):
        if not spans:
            segments.append(segment)
            continue
        redacted, found = _redact_segment(segment, spans)
        segments.append(redacted)
        redactions += found
    return transcript.model_copy(update={"segments": segments, "redactions": redactions})


def segment_spans(segments: Sequence[Segment], timed: bool = True) -> list[list[Span]]:
    """Personal data in each segment's own text, found over each speaker's segments joined."""
    found: list[list[Span]] = [[] for _ in segments]
    order = sorted(range(len(segments)), key=lambda i: segments[i].start)  # stable: untimed keep turn order
    for speaker in dict.fromkeys(segments[i].speaker for i in order):
        mine = [i for i in order if segments[i].speaker == speaker]
        others = [i for i in order if segments[i].speaker != speaker]
        joined, offsets, questions = "", [], []
        previous: int | None = None
        for i in mine:
            segment = segments[i]
            if previous is not None:
                # Without times, the other side's turn in between is the pause that ends a number.
                apart = segment.start - segments[previous].end > MAX_PAUSE if timed else i - previous > 1
                joined += "\n" if apart else " "
            offsets.append((i, len(joined)))
            asked = _asked_before(segments, i, previous, others, timed)
            if asked:
                questions.append(Question(len(joined), len(joined) + len(segment.text), asked))
            joined += segment.text
            previous = i
        for span in find_personal_data(joined, questions):
            for i, offset in offsets:
                piece = _piece(span, offset, segments[i].text)
                if piece:
                    found[i].append(piece)
    return found


def _asked_before(
    segments: Sequence[Segment], at: int, previous: int | None, others: list[int], timed: bool
) -> str:
    """What the other side said since this speaker's previous segment, shortly before this one; without
    times, every turn of theirs in between."""
    if not timed:
        since = -1 if previous is None else previous
        return " ".join(segments[j].text for j in others if since < j < at)
    segment = segments[at]
    start = segments[previous].start if previous is not None else float("-inf")
    return " ".join(
        segments[j].text
        for j in others
        if start <= segments[j].start < segment.start and segment.start - segments[j].end <= QUESTION_WINDOW
    )


def _piece(span: Span, offset: int, text: str) -> Span | None:
    """The part of a span over the joined text that lies in one segment, in that segment's offsets."""
    start, end = max(span.start - offset, 0), min(span.end - offset, len(text))
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return Span(span.kind, start, end) if start < end else None


def _redact_segment(segment: Segment, spans: list[Span]) -> tuple[Segment, list[Redaction]]:
    located = _word_offsets(segment)
    text, words, found = segment.text, list(segment.words), []
    for span in reversed(spans):  # from the end, so earlier offsets stay valid
        text = text[: span.start] + f"[{span.kind}]" + text[span.end :]
        inside = [i for i, (start, end) in enumerate(located) if start < span.end and span.start < end]
        if inside:
            first, last = words[inside[0]], words[inside[-1]]
            found.append(Redaction(kind=span.kind, speaker=segment.speaker, start=first.start, end=last.end))
            leading = " " if first.word.startswith(" ") else ""
            replacement = Word(
                start=first.start, end=last.end, word=f"{leading}[{span.kind}]", probability=1.0
            )
            words[inside[0] : inside[-1] + 1] = [replacement]
        else:  # no word timings: the whole segment's span
            found.append(
                Redaction(kind=span.kind, speaker=segment.speaker, start=segment.start, end=segment.end)
            )
    return segment.model_copy(update={"text": text, "words": words}), list(reversed(found))


def _word_offsets(segment: Segment) -> list[tuple[int, int]]:
    """Each word's character span in the segment's text (words are found in order)."""
    offsets, cursor = [], 0
    for word in segment.words:
        token = word.word.strip()
        start = segment.text.find(token, cursor) if token else -1
        if start < 0:
            offsets.append((-1, -1))
            continue
        offsets.append((start, start + len(token)))
        cursor = start + len(token)
    return offsets
