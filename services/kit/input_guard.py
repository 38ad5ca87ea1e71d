"""Refuse, before any handler runs, input that would otherwise fail as a server error.

- The NUL character: PostgreSQL's `text` and `jsonb` reject U+0000, so a NUL in a query
  parameter, a path segment or a string anywhere in a JSON body would reach the database and
  fail there. The 422 names the parameter, the field path (`ideas[3].title`) or the CSV row.
- A JSON body that is not UTF-8, or is nested deeper than any of our documents needs: msgspec
  raises UnicodeDecodeError and RecursionError for those, which the framework does not turn
  into a 400 as it does other malformed JSON. Only handlers that read a JSON document (a
  `data` parameter) are checked; handlers taking the raw body (CSV import, Jira webhooks)
  read it themselves.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from services.kit.problems import AppError, FieldProblem, InvalidInput, MalformedBody

NUL = "\x00"
_MESSAGE = "must not contain the NUL character (U+0000)"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Our deepest document (a scenario) nests about ten levels; this leaves room and stays far
# below the interpreter's recursion limit, which the decoders share.
MAX_JSON_DEPTH = 64


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


def depth_of(document: Any) -> int:
    """How deeply `document` nests lists and objects (a scalar is 0); iterative, so any depth is safe."""
    deepest, pending = 0, [(document, 1)]
    while pending:
        value, level = pending.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest


def _refuse(field: str, *, row: int | None = None) -> InvalidInput:
    where = f"{field} (row {row})" if row is not None else field
    return InvalidInput(f"{where} {_MESSAGE}", errors=[FieldProblem(field=field, message=_MESSAGE, row=row)])


def _malformed(message: str) -> MalformedBody:
    return MalformedBody(f"body: {message}", errors=[FieldProblem(field="body", message=message)])


def _json_body_problem(body: bytes) -> AppError | None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _malformed(f"is not valid UTF-8 (byte {exc.start})")
    has_nul = b"\\u0000" in body
    # Fewer opening brackets than the limit cannot nest deeper than it: most bodies stop here.
    if not has_nul and body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return None
    try:
        document = msgspec.json.decode(body)
    except RecursionError:
        return _malformed(f"nests deeper than {MAX_JSON_DEPTH} levels")
    except msgspec.DecodeError:
        return None  # malformed JSON: the handler reports it, with where
    if depth_of(document) > MAX_JSON_DEPTH:
        return _malformed(f"nests deeper than {MAX_JSON_DEPTH} levels")
    field = nul_path(document) if has_nul else None
    return None if field is None else _refuse(field or "body")


def _raw_body_problem(body: bytes) -> InvalidInput | None:
    index = body.find(b"\x00")
    if index < 0:
        return None
    return _refuse("body", row=body.count(b"\n", 0, index) + 1)


async def refuse_unreadable_input(request: Request) -> None:
    """Litestar `before_request` hook: a 4xx naming what cannot be read or stored, before any handler runs."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise _refuse(f"path.{name}")
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise _refuse(f"query.{name}")
    if request.method not in _BODY_METHODS:
        return
    body = await request.body()
    if "data" in request.route_handler.parsed_fn_signature.parameters:
        problem: AppError | None = _json_body_problem(body)
    else:
        problem = _raw_body_problem(body)
    if problem is not None:
        raise problem
