"""Refuse, before any handler runs, text that PostgreSQL cannot store: the NUL character.

PostgreSQL's `text` and `jsonb` reject U+0000, so a NUL in a query parameter, a path
segment or a string anywhere in a JSON body would otherwise reach the database and fail
there as a server error. Checking here, once for every handler, gives the caller a 422
that names the parameter, the field path (`ideas[3].title`) or the CSV row instead.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from services.kit.problems import FieldProblem, InvalidInput

NUL = "\x00"
_MESSAGE = "must not contain the NUL character (U+0000)"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def nul_path(value: Any, path: str = "") -> str | None:
    """The path to the first string (or object key) in `value` holding a NUL, or None."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return where
            found = nul_path(item, where)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _refuse(field: str, *, row: int | None = None) -> InvalidInput:
    where = f"{field} (row {row})" if row is not None else field
    return InvalidInput(f"{where} {_MESSAGE}", errors=[FieldProblem(field=field, message=_MESSAGE, row=row)])


def _body_problem(body: bytes, content_type: str) -> InvalidInput | None:
    if content_type.endswith("json"):
        # JSON can only carry a NUL escaped; decoding finds where (a malformed body is the
        # handler's to report).
        if b"\\u0000" not in body:
            return None
        try:
            document = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return None
        field = nul_path(document)
        return None if field is None else _refuse(field or "body")
    index = body.find(b"\x00")
    if index < 0:
        return None
    return _refuse("body", row=body.count(b"\n", 0, index) + 1)


async def refuse_nul_characters(request: Request) -> None:
    """Litestar `before_request` hook: raise a 422 naming where a NUL was sent."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise _refuse(f"path.{name}")
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise _refuse(f"query.{name}")
    if request.method in _BODY_METHODS:
        problem = _body_problem(await request.body(), request.content_type[0])
        if problem is not None:
            raise problem
