"""Personal data out of transcripts: card, phone and passport numbers, e-mail addresses, long numbers.

Redaction runs on the transcript before anything stores, writes or sends it, so the store, the JSON
files, review sheets and prompts to a remote judge all carry `[card]`, `[phone]` ... instead. Each
redaction keeps its speaker and time span, so the recording can be muted there too. Numbers are found as
digits ("4276 3800 1234 5678", "+7 916 123-45-67") and as spoken digit words, in any mix and however
ASR punctuates a number read out digit by digit ("077, 00, 9, 00, 01, 2, 3", "zero seven seven ...",
"четыре пять один ноль ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from qa_pipeline.models import Redaction, Segment, Transcript, Word

Kind = Literal["card", "phone", "passport", "email", "number"]

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
SPOKEN_DIGITS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "double": "",
    "ноль": "0", "нуль": "0", "один": "1", "одна": "1", "два": "2", "две": "2", "три": "3",
    "четыре": "4", "пять": "5", "шесть": "6", "семь": "7", "восемь": "8", "девять": "9",
}  # fmt: skip
# A number as people read it out and ASR writes it: digit groups ("+7", "(916)", "123-45-67") and digit
# words, in any mix, with spaces, commas, dots or dashes between them ("077, 00, 0, 9, 0 ...").
_TOKEN = r"(?:\+?\(?\d+\)?(?:-\d+)*|\b(?:" + "|".join(SPOKEN_DIGITS) + r")\b)"
NUMBER_RUN = re.compile(rf"{_TOKEN}(?:[\s,.\-]+{_TOKEN})*", re.IGNORECASE | re.UNICODE)
PASSPORT_WORDS = re.compile(r"(passport|паспорт)", re.IGNORECASE)
MIN_DIGITS = 6  # shorter numbers are amounts, dates, times, house numbers


@dataclass(frozen=True)
class Span:
    kind: Kind
    start: int
    end: int


def find_personal_data(text: str) -> list[Span]:
    """Non-overlapping spans of personal data in one line of text, in order."""
    spans = [Span("email", m.start(), m.end()) for m in EMAIL.finditer(text)]
    for match in NUMBER_RUN.finditer(text):
        if any(s.start < match.end() and match.start() < s.end for s in spans):
            continue
        digits = _digits(match.group())
        if len(digits) >= MIN_DIGITS:
            spans.append(
                Span(_kind(digits, match.group(), text[: match.start()]), match.start(), match.end())
            )
    return sorted(spans, key=lambda s: s.start)


def redact_transcript(transcript: Transcript) -> Transcript:
    segments, redactions = [], list(transcript.redactions)
    for segment in transcript.segments:
        spans = find_personal_data(segment.text)
        if not spans:
            segments.append(segment)
            continue
        redacted, found = _redact_segment(segment, spans)
        segments.append(redacted)
        redactions += found
    return transcript.model_copy(update={"segments": segments, "redactions": redactions})


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


def _digits(text: str) -> str:
    return "".join(
        SPOKEN_DIGITS.get(token.lower(), token)
        for token in re.findall(r"\d+|\w+", text)
        if token.isdigit() or token.lower() in SPOKEN_DIGITS
    )


def _kind(digits: str, matched: str, before: str) -> Kind:
    if PASSPORT_WORDS.search(before[-40:]):
        return "passport"
    if 13 <= len(digits) <= 19 and _luhn(digits):
        return "card"
    if matched.startswith("+") or (len(digits) in (10, 11) and digits[0] in "0789"):
        return "phone"
    return "number"


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
