"""Words that make the number after them personal, however short: "CVV is 123", "серия 45 07 номер ...".

A context word names what the caller is about to read out; the number that follows it (after a few
filler words: "is", "my", "номер", "это") gets that kind, if it has as many digits as such a number can.
The same words in the other side's question ("Назовите код из СМС") name the answer that follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ContextKind = Literal["card", "phone", "passport", "secret", "id", "birth_date"]


@dataclass(frozen=True)
class Context:
    kind: ContextKind
    words: re.Pattern[str]
    min_digits: int
    max_digits: int
    parts: int = 1  # number runs one mention may cover: a passport's series, then "номер", then the number


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE | re.UNICODE)


CONTEXTS = (
    Context(
        "secret",
        _words(
            r"cvv2?|cvc2?|cvn|pin(?:[- ]?code)?|passcode|(?:security|verification|confirmation|sms|"
            r"one[- ]time) (?:code|password)|пин(?:[- ]?код\w*)?|пинкод\w*|код\w* подтверждения|код\w*|"
            r"смс[- ]код\w*|"
            r"sms[- ]код\w*"
        ),
        3,
        8,
    ),
    Context("passport", _words(r"passports?|паспорт\w*|сери[яиюей]|series"), 4, 12, parts=2),
    Context("id", _words(r"снилс\w*|инн|ssn|social security(?: number)?|tax (?:id|number)"), 4, 14),
    Context("card", _words(r"cards?|карт[аыуеойч]\w*|visa|виза|mastercard|мастеркард"), 12, 19),
    Context(
        "phone",
        _words(r"phone|mobile|cell|landline|телефон\w*|мобильн\w*|сотов\w*|городск\w*"),
        5,
        15,
    ),
)
BIRTH_WORDS = _words(
    r"date of birth|birth ?date|born|dob|дат[аеуы] рождения|(?:день|дня|дне) рождения|родил(?:ся|ась)"
)

# Words a caller puts between the context word and the number ("my PIN is ...", "номер паспорта: ...").
FILLERS = frozenset(
    [
        "is",
        "it",
        "s",
        "its",
        "was",
        "my",
        "the",
        "a",
        "number",
        "no",
        "code",
        "on",
        "back",
        "of",
        "card",
        "series",
        "please",
        "uh",
        "um",
        "er",
        "so",
        "okay",
        "ok",
        "yes",
        "yeah",
        "sure",
        "here",
        "that",
        "me",
        "mine",
        "from",
        "sms",
        "номер",
        "номера",
        "номером",
        "серия",
        "серии",
        "и",
        "паспорта",
        "паспорт",
        "это",
        "мой",
        "моя",
        "мое",
        "моего",
        "вот",
        "так",
        "значит",
        "ну",
        "э",
        "эм",
        "у",
        "меня",
        "пожалуйста",
        "карты",
        "карта",
        "такой",
        "такая",
        "следующий",
        "следующая",
        "там",
        "из",
        "смс",
        "sms",
        "телефона",
        "телефон",
        "код",
        "кода",
        "записывайте",
        "пишите",
        "да",
    ]
)
MAX_FILLERS = 6

_MONTHS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|"
    r"apr|jun|jul|aug|sep|sept|oct|nov|dec|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|"
    r"октября|ноября|декабря"
)
_ORDINALS = (
    r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
    r"fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth|"
    r"(?:перв|втор|трет|четв[её]рт|пят|шест|седьм|восьм|девят|десят|одиннадцат|двенадцат|тринадцат|"
    r"четырнадцат|пятнадцат|шестнадцат|семнадцат|восемнадцат|девятнадцат|двадцат|тридцат|сороков|"
    r"пятидесят|шестидесят|семидесят|восьмидесят|девяност)(?:ое|ого|ый|ий|ой|ье|ьего|его|ая|ья|ом)"
)
# One word of a date as said or written: "12.05.1985", "3rd", "May", "двенадцатое", "тысяча".
DATE_WORD = re.compile(
    rf"(?:\d{{1,4}}(?:st|nd|rd|th)?|{_MONTHS}|{_ORDINALS}|of|thousand|тысяч[аи])(?!\w)",
    re.IGNORECASE | re.UNICODE,
)
DATE_GAP = re.compile(r"[\s,.:/\-]*")
