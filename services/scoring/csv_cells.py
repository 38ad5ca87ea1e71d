"""The cell syntax of the ideas CSV: lists in one cell, escapes, numbers read back exactly.

A list cell separates items with `;` and pairs with `:`; a backslash escapes either (and
itself), so any text survives the trip through a spreadsheet.
"""

from __future__ import annotations

import math
import re

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class BadCell(Exception):
    """Raised by a cell parser; becomes a CellProblem at that row and column."""


def escape(text: str, specials: str = ";") -> str:
    text = text.replace("\\", "\\\\")
    for char in specials:
        text = text.replace(char, "\\" + char)
    return text


def format_number(value: float) -> str:
    """Shortest text that reads back as the same float: 15.0 -> "15", 0.1 -> "0.1"."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def split(text: str, separator: str) -> list[str]:
    """Split on `separator` where it is not escaped by a backslash; parts stay escaped."""
    parts, current, index = [], [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    # Only \\, \; and \: are escapes; any other backslash is kept, so "C:\temp" reads as typed.
    return re.sub(r"\\([\\;:])", r"\1", text)


def items(cell: str) -> list[str]:
    return [item.strip() for item in split(cell, ";") if item.strip()]


def parse_number(text: str) -> float:
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        raise BadCell(f"{text!r} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise BadCell(f"{text!r} is too large")
    return value
