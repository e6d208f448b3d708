"""Cells that a spreadsheet must show as text, never run: a customer who says "=HYPERLINK(...)" in a call
must not become a formula in Excel (CSV injection). Text starting with = + - @ or a tab / carriage
return gets a leading apostrophe in CSV files; in XLSX files such cells are stored as plain strings."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """The CSV form of a cell: text that a spreadsheet would read as a formula gets an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)
