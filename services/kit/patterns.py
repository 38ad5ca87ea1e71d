"""Regular expressions for whole values, that mean the same to msgspec and to OpenAPI readers.

`^...$` is not enough in Python: its `$` also matches just before a final newline, so msgspec
(which searches with Python's `re`) would take "EUR\\n" as a currency. `\\Z` would fix Python but
is not JSON Schema's regex dialect (ECMA 262), which the OpenAPI documents publish. A negative
lookahead for any character ends the match at the true end of the text in both.
"""

from __future__ import annotations


def whole(pattern: str) -> str:
    """A pattern that matches a value only when all of it is `pattern`."""
    return rf"^(?:{pattern})(?![\s\S])"
