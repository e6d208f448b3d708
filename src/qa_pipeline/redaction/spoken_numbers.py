"""Numbers as people read them out, turned into the digits they stand for.

Callers read card and phone numbers in groups ("forty-two seventy-six", "thirty-eight hundred",
"сорок два семьдесят шесть", "double one"), and Whisper writes those groups as words, as digits or as a
mix. Only what the digits are matters for redaction, so each group becomes its digit string and groups
are concatenated: "twelve thirty-four" is "1234", "сто двадцать три" is "123", "double oh" is "00".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Role = Literal["unit", "teen", "tens", "hundreds", "hundred", "repeat", "plus"]


def _forms(role: Role, entries: dict[int, str]) -> dict[str, tuple[Role, int]]:
    return {form: (role, value) for value, forms in entries.items() for form in forms.split()}


# Russian forms cover the cases numbers take in speech ("двух", "пяти", "сорока", "двухсот"); "ё" is
# written "е" because words are looked up after `normalise`.
NUMBER_WORDS: dict[str, tuple[Role, int]] = {
    **_forms("unit", {
        0: "zero oh ноль нуль ноля нуля", 1: "one один одна одно одного одной одну", 2: "two два две двух",
        3: "three три трех", 4: "four четыре четырех", 5: "five пять пяти", 6: "six шесть шести",
        7: "seven семь семи", 8: "eight восемь восьми", 9: "nine девять девяти",
    }),
    **_forms("teen", {
        10: "ten десять десяти", 11: "eleven одиннадцать одиннадцати", 12: "twelve двенадцать двенадцати",
        13: "thirteen тринадцать тринадцати", 14: "fourteen четырнадцать четырнадцати",
        15: "fifteen пятнадцать пятнадцати", 16: "sixteen шестнадцать шестнадцати",
        17: "seventeen семнадцать семнадцати", 18: "eighteen восемнадцать восемнадцати",
        19: "nineteen девятнадцать девятнадцати",
    }),
    **_forms("tens", {
        20: "twenty двадцать двадцати", 30: "thirty тридцать тридцати", 40: "forty сорок сорока",
        50: "fifty пятьдесят пятидесяти", 60: "sixty шестьдесят шестидесяти",
        70: "seventy семьдесят семидесяти", 80: "eighty восемьдесят восьмидесяти",
        90: "ninety девяносто девяноста",
    }),
    **_forms("hundreds", {
        100: "сто ста", 200: "двести двухсот", 300: "триста трехсот", 400: "четыреста четырехсот",
        500: "пятьсот пятисот", 600: "шестьсот шестисот", 700: "семьсот семисот", 800: "восемьсот восьмисот",
        900: "девятьсот девятисот",
    }),
    **_forms("hundred", {100: "hundred"}),
    **_forms("repeat", {2: "double", 3: "triple"}),
    **_forms("plus", {0: "plus плюс"}),
}  # fmt: skip


_Item = tuple[str, int, str]  # role ("digits" for written digits), value, digit text


def normalise(word: str) -> str:
    return word.lower().replace("ё", "е")


def is_number_word(word: str) -> bool:
    return normalise(word) in NUMBER_WORDS


def spoken_digits(tokens: Sequence[str]) -> str:
    """The digits a run of digit groups and number words stands for, "+" first when it starts with plus.

    A "," token is a pause: groups on either side stay apart ("thirty, three" is "303", not "33").

    >>> spoken_digits(["forty", "two", "seventy", "six", "thirty", "eight", "hundred"])
    '42763800'
    >>> spoken_digits(["+7", "девятьсот", "шестнадцать", "double", "oh"])
    '+791600'
    """
    out: list[str] = []
    items = [_value(token) for token in tokens]
    i = 0
    while i < len(items):
        role, value, text = items[i]
        if role == "digits":
            if tokens[i].startswith("+") and not out:
                out.append("+")
            if i + 1 < len(items) and items[i + 1][0] == "hundred" and len(text) <= 2:  # "38 hundred"
                number, i = _hundreds(items, i + 2, int(text) * 100)
                out.append(str(number))
                continue
            out.append(text)
            i += 1
        elif role == "pause":
            i += 1
        elif role == "plus":
            out.append("+" if not out else "")
            i += 1
        elif role == "repeat":
            follows = items[i + 1] if i + 1 < len(items) else None
            if follows and follows[0] in ("unit", "digits") and len(follows[2]) == 1:
                out.append(follows[2] * value)
                i += 2
            else:
                i += 1
        elif role == "hundreds":
            number, i = _below_hundred(items, i + 1, value)
            out.append(str(number))
        elif role == "hundred":
            number, i = _hundreds(items, i + 1, 100)
            out.append(str(number))
        else:  # unit, teen, tens
            number, i = (value + items[i + 1][1], i + 2) if _tens_then_unit(items, i) else (value, i + 1)
            if i < len(items) and items[i][0] == "hundred" and number:  # "thirty-eight hundred"
                number, i = _hundreds(items, i + 1, number * 100)
            out.append(str(number))
    return "".join(out)


def _value(token: str) -> _Item:
    if token == ",":
        return "pause", 0, ""
    if any(char.isdigit() for char in token):
        digits = "".join(char for char in token if char.isdigit())
        return "digits", int(digits), digits
    role, value = NUMBER_WORDS.get(normalise(token), ("and", 0))
    return role, value, str(value)


def _tens_then_unit(items: list[_Item], i: int) -> bool:
    return items[i][0] == "tens" and i + 1 < len(items) and items[i + 1][0] == "unit" and items[i + 1][1] > 0


def _hundreds(items: list[_Item], i: int, base: int) -> tuple[int, int]:
    """`base` hundreds and what follows "hundred": "and", then tens, units or a teen."""
    if i < len(items) and items[i][0] == "and":
        i += 1
    return _below_hundred(items, i, base)


def _below_hundred(items: list[_Item], i: int, base: int) -> tuple[int, int]:
    if i < len(items) and items[i][0] in ("tens", "teen"):
        base += items[i][1]
        i += 1
        if items[i - 1][0] == "tens" and i < len(items) and items[i][0] == "unit" and items[i][1] > 0:
            base += items[i][1]
            i += 1
    elif i < len(items) and items[i][0] == "unit" and items[i][1] > 0:
        base += items[i][1]
        i += 1
    return base, i
