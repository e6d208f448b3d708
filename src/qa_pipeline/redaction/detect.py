"""Find personal data in text as Whisper writes speech: digits, number words, spoken e-mails.

A number is a run of digit groups and number words with only spaces, commas, dots or dashes between
them ("4276, 3800, 1234, 5679", "+7 916 123-45-67", "forty-two seventy-six ...", "восемь девятьсот
шестнадцать ..."). Its kind comes from a context word before it ("CVV", "серия", "ИНН"), else from the
digits: 13-19 passing the Luhn check is a card, a "+" or a phone's shape is a phone, any other run of
6 or more digits is a number. Shorter numbers, dates, and amounts followed by a currency stay.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from qa_pipeline.redaction.context import (
    BIRTH_WORDS,
    CONTEXTS,
    DATE_GAP,
    DATE_WORD,
    FILLERS,
    MAX_FILLERS,
)
from qa_pipeline.redaction.spoken_numbers import is_number_word, normalise, spoken_digits

Kind = Literal["card", "phone", "passport", "email", "number", "secret", "id", "birth_date"]

MIN_DIGITS = 6  # shorter numbers without a context word are amounts, dates, times, house numbers

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_AT = r"(?:\s*@\s*|\s+(?:at|собака|собачка|эт)\s+)"
_DOT = r"(?:\s*\.\s*|\s+(?:dot|точка)\s+)"
_JOIN = (
    r"(?:\s*[._-]\s*|\s+(?:dot|точка|underscore|нижнее подч[её]ркивание|подч[её]ркивание|dash|hyphen|"
    r"дефис|тире)\s+)"
)
_NAME = r"[^\W_][^\W_]*"
_TLD = r"(?:com|net|org|info|biz|io|ru|su|by|kz|ua|uk|de|fr|us|eu|co|me|рф|ру|ком|нет|орг)"
# "john dot smith at gmail dot com", "иван собака мейл точка ру": a domain must end in a known top-level
# domain, so "at home" or "собака лает" never read as an address.
SPOKEN_EMAIL = re.compile(
    rf"(?<!\w){_NAME}(?:{_JOIN}{_NAME})*{_AT}{_NAME}(?:{_DOT}{_NAME})*{_DOT}{_TLD}(?!\w)",
    re.IGNORECASE | re.UNICODE,
)

# Digit groups not glued to letters ("14th", "CVV2", "jsmith85" are not numbers), and words.
_TOKEN = re.compile(
    r"(?<![^\W_])(?>\+?\(?\d+\)?(?:[-–]\(?\d+\)?)*)(?![^\W_])|[^\W\d_]+", re.UNICODE | re.IGNORECASE
)
_NUMBER_GAP = re.compile(r"[ \t,.\-–—]*")  # no newline: a long pause between segments ends a number
_CONTEXT_GAP = re.compile(r"[\s,.:;\-–—'’]*")
_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}")
_PHONE_SHAPE = re.compile(r"\(\d+\)|\d{3}-\d{2}-\d{2}|\d{3}-\d{4}")
_CURRENCY_AFTER = re.compile(
    r"\s*(?:руб|₽|р\.|доллар|евро|копе|процент|%|\$|€|£|dollar|euro|pound|cent|percent|usd|eur|rub)",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"[$€£₽]\s*$")


@dataclass(frozen=True)
class Span:
    kind: Kind
    start: int
    end: int


@dataclass(frozen=True)
class Question:
    """What the other side said just before the text in [start, end): its context words name the answer."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Run:
    first: int  # token indexes, inclusive
    last: int
    start: int  # character offsets
    end: int
    digits: str


def find_personal_data(text: str, questions: Sequence[Question] = ()) -> list[Span]:
    """Non-overlapping spans of personal data in `text`, in order."""
    spans = _emails(text)
    tokens = [_Token(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    runs = _number_runs(text, tokens)
    run_at = {run.first: run for run in runs}
    for span in _birth_dates(text, tokens) + _in_context(text, tokens, run_at):
        _add(spans, span)
    for run in runs:
        kind = _asked_kind(run, questions) or _plain_kind(text, run)
        if kind:
            _add(spans, Span(kind, run.start, run.end))
    return sorted(spans, key=lambda s: s.start)


def _add(spans: list[Span], span: Span) -> None:
    if not any(s.start < span.end and span.start < s.end for s in spans):
        spans.append(span)


def _emails(text: str) -> list[Span]:
    spans: list[Span] = []
    for pattern in (EMAIL, SPOKEN_EMAIL):
        for match in pattern.finditer(text):
            _add(spans, Span("email", match.start(), match.end()))
    return spans


def _number_runs(text: str, tokens: list[_Token]) -> list[_Run]:
    runs: list[_Run] = []
    i = 0
    while i < len(tokens):
        if not _starts_number(tokens, i, text):
            i += 1
            continue
        last = i
        while last + 1 < len(tokens) and _continues_number(tokens, last, text):
            last += 1
        said = []
        for k in range(i, last + 1):
            if k > i and any(mark in text[tokens[k - 1].end : tokens[k].start] for mark in ",."):
                said.append(",")
            if not _is_word(tokens[k], "and"):
                said.append(tokens[k].text)
        digits = spoken_digits(said)
        runs.append(_Run(i, last, tokens[i].start, tokens[last].end, digits))
        i = last + 1
    return runs


def _starts_number(tokens: list[_Token], i: int, text: str) -> bool:
    token = tokens[i]
    if _is_word(token, "plus", "плюс"):
        return i + 1 < len(tokens) and _numeric(tokens[i + 1]) and _gap(text, token, tokens[i + 1])
    if _is_word(token, "oh") and i + 1 < len(tokens):  # "Oh, 4276 ..." is an exclamation
        gap = text[token.end : tokens[i + 1].start]
        return "," not in gap and "!" not in gap and _numeric(tokens[i + 1])
    return _numeric(token)


def _continues_number(tokens: list[_Token], last: int, text: str) -> bool:
    following = tokens[last + 1]
    if not _gap(text, tokens[last], following):
        return False
    if _is_word(following, "and"):  # "three hundred and twelve"
        return (
            _is_word(tokens[last], "hundred")
            and last + 2 < len(tokens)
            and is_number_word(tokens[last + 2].text)
            and _gap(text, following, tokens[last + 2])
        )
    return _numeric(following) and not _is_word(following, "plus", "плюс")


def _gap(text: str, before: _Token, after: _Token) -> bool:
    return _NUMBER_GAP.fullmatch(text, before.end, after.start) is not None


def _numeric(token: _Token) -> bool:
    return token.text[-1].isdigit() or token.text[-1] == ")" or is_number_word(token.text)


def _is_word(token: _Token, *words: str) -> bool:
    return normalise(token.text) in words


def _in_context(text: str, tokens: list[_Token], run_at: dict[int, _Run]) -> list[Span]:
    """Numbers right after a context word ("CVV is 123", "серия 45 07 номер 123456")."""
    spans: list[Span] = []
    for context in CONTEXTS:
        for match in context.words.finditer(text):
            runs = _runs_after(text, tokens, run_at, match.end(), context.parts)
            digits = sum(len(run.digits.lstrip("+")) for run in runs)
            if runs and context.min_digits <= digits <= context.max_digits:
                spans.append(Span(context.kind, runs[0].start, runs[-1].end))
    return spans


def _runs_after(
    text: str, tokens: list[_Token], run_at: dict[int, _Run], position: int, parts: int
) -> list[_Run]:
    runs: list[_Run] = []
    i = next((k for k, token in enumerate(tokens) if token.start >= position), len(tokens))
    fillers, cursor = 0, position
    while i < len(tokens) and len(runs) < parts and fillers <= MAX_FILLERS:
        if _CONTEXT_GAP.fullmatch(text, cursor, tokens[i].start) is None:
            break
        if i in run_at:
            runs.append(run_at[i])
            cursor, i, fillers = run_at[i].end, run_at[i].last + 1, 0
        elif normalise(tokens[i].text) in FILLERS:
            cursor, i, fillers = tokens[i].end, i + 1, fillers + 1
        else:
            break
    return runs


def _birth_dates(text: str, tokens: list[_Token]) -> list[Span]:
    """A date after "date of birth", "дата рождения", "born": digits, month names, ordinals, years."""
    spans: list[Span] = []
    for match in BIRTH_WORDS.finditer(text):
        cursor = match.end()
        for token in tokens:  # the fillers between the words and the date: "is", "on the"
            if token.start < cursor:
                continue
            if normalise(token.text) not in FILLERS or not _CONTEXT_GAP.fullmatch(text, cursor, token.start):
                break
            cursor = token.end
        start = end = -1
        while True:
            gap = DATE_GAP.match(text, cursor)
            at = gap.end() if gap else cursor
            word = DATE_WORD.match(text, at)
            number = re.match(r"[^\W\d_]+", text[at:])
            if word:
                length = word.end() - at
            elif number and is_number_word(number.group()):
                length = number.end()
            else:
                break
            start = at if start < 0 else start
            end = cursor = at + length
        said = text[start:end] if start >= 0 else ""
        if any(char.isdigit() for char in said) or _has_number_words(said):
            spans.append(Span("birth_date", start, end))
    return spans


def _has_number_words(text: str) -> bool:
    return any(is_number_word(word) for word in re.findall(r"[^\W\d_]+", text))


def _asked_kind(run: _Run, questions: Sequence[Question]) -> Kind | None:
    """The kind the other side's question just before names, if this run could be one."""
    digits = len(run.digits.lstrip("+"))
    for question in questions:
        if question.start <= run.start < question.end:
            for context in CONTEXTS:
                if context.words.search(question.text) and context.min_digits <= digits <= context.max_digits:
                    return context.kind
    return None


def _plain_kind(text: str, run: _Run) -> Kind | None:
    digits = run.digits.lstrip("+")
    matched = text[run.start : run.end]
    shaped = bool(_PHONE_SHAPE.search(matched))
    if len(digits) < (7 if shaped else MIN_DIGITS) or _DATE.fullmatch(matched):
        return None
    if 13 <= len(digits) <= 19 and luhn(digits):
        return "card"
    if run.digits.startswith("+") or shaped or (len(digits) in (10, 11) and digits[0] in "0789"):
        return "phone"
    if _CURRENCY_AFTER.match(text, run.end) or _CURRENCY_BEFORE.search(text, 0, run.start):
        return None
    return "number"


def luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
