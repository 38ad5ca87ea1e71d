"""What a Jira site answered, made fit to show a user. Pure: no I/O.

A user chooses the site a connection calls, so an answer is shown only when it came as Jira
answers, and then only Jira's own error fields (`errorMessages`, `errors`), cleaned and bounded:
never a body as it came. Anything else, whatever it was (HTML, a redirect, a closed port, a
timeout), is the one sentence `NOT_JIRA`, so the server cannot be used to tell one kind of
non-Jira host from another (docs/security.md, "Outbound calls").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

NOT_JIRA = "Jira could not be reached, or the site did not answer as Jira does"

MAX_MESSAGES = 5
MAX_FIELDS = 10
MAX_TEXT = 200
MAX_FIELD_NAME = 64
# Jira's field ids: system names and custom fields (customfield_10050), sometimes indexed.
_FIELD_NAME = re.compile(r"[A-Za-z0-9_.\[\]-]{1,64}")
# Jira sends its request id on every answer, refusals without a JSON body included.
JIRA_REQUEST_ID_HEADER = "x-arequestid"


class ErrorFields(msgspec.Struct, frozen=True):
    """Jira's ErrorCollection: global messages and per-field ones. Extra keys are ignored."""

    errorMessages: list[str] = []
    errors: dict[str, str] = {}


def error_fields(body: bytes) -> ErrorFields | None:
    """Jira's error fields in `body`, or None when the body is not Jira's ErrorCollection."""
    try:
        decoded: Any = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):  # RecursionError: nested deeper than the stack
        return None
    if not isinstance(decoded, dict) or not ({"errorMessages", "errors"} & decoded.keys()):
        return None
    try:
        return msgspec.convert(decoded, ErrorFields)
    except msgspec.ValidationError:
        return None


def is_jira_error_answer(body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether an error answer came as Jira answers: its ErrorCollection, or its request id header."""
    return JIRA_REQUEST_ID_HEADER in headers or error_fields(body) is not None


def clean(text: str, limit: int = MAX_TEXT) -> str:
    """`text` on one line without control or format characters, at most `limit` characters."""
    kept = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    single = " ".join(kept.split())
    return single if len(single) <= limit else single[: limit - 1] + "…"


def summary(messages: Sequence[Any], fields: Mapping[Any, Any]) -> tuple[list[str], dict[str, str]]:
    """Jira's error fields, bounded in number and length and cleaned of anything that is not text."""
    shown = [clean(str(m)) for m in list(messages)[:MAX_MESSAGES] if clean(str(m))]
    if len(messages) > MAX_MESSAGES:
        shown.append(f"(and {len(messages) - MAX_MESSAGES} more)")
    shown_fields: dict[str, str] = {}
    for name, message in list(fields.items())[:MAX_FIELDS]:
        key = (
            str(name)
            if _FIELD_NAME.fullmatch(str(name))
            else clean(str(name), MAX_FIELD_NAME).replace(" ", "_") or "field"
        )
        shown_fields[key] = clean(str(message))
    return shown, shown_fields
