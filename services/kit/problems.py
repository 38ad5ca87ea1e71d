"""RFC 9457 problem details: one table from our exceptions to a stable `type`, title and status."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)

from services.kit.db import database_unavailable

PROBLEM_TYPE_BASE = "https://roadmap-backend.dev/problems/"

log = logging.getLogger("roadmap.errors")


class FieldProblem(msgspec.Struct, frozen=True):
    """One thing wrong with the input, and where: a field path, or a row and column."""

    field: str
    message: str
    row: int | None = None
    column: str | None = None


class AppError(Exception):
    """Base of every error the API reports on purpose. Subclasses pick slug, title and status."""

    slug = "error"
    title = "Request failed"
    status = 400

    def __init__(
        self, detail: str, *, errors: list[FieldProblem] | None = None, extensions: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        # RFC 9457 extension members a client can act on without parsing `detail` (camelCase names).
        self.extensions = extensions or {}


class InvalidInput(AppError):
    slug, title, status = "validation-error", "The request is not valid", 422


def invalid_conversion(exc: Exception, *, under: str = "") -> InvalidInput:
    """A 422 for a nested document that failed to convert (msgspec) or broke an invariant.

    `under` names where the document sits in the request body, e.g. `definition`.
    """
    text = str(exc)
    message = text.split(" - at `", 1)[0]
    inner = _field_of(None, text)
    if inner == "body":
        field = under or "body"
    else:
        field = f"{under}.{inner}" if under else inner
    return InvalidInput(f"{field}: {message}", errors=[FieldProblem(field=field, message=message)])


class MalformedBody(AppError):
    slug, title, status = "malformed-body", "The request body could not be read", 400


class NotFound(AppError):
    slug, title, status = "not-found", "Not found", 404


class Conflict(AppError):
    slug, title, status = "conflict", "The request conflicts with the current state", 409


class Unauthorized(AppError):
    slug, title, status = "unauthorized", "Authentication required", 401


class Forbidden(AppError):
    slug, title, status = "forbidden", "Your role does not allow this", 403


class ServiceUnavailable(AppError):
    slug, title, status = "service-unavailable", "A dependency is unavailable; try again shortly", 503


def status_of(exc: BaseException) -> int:
    """The HTTP status an exception is answered with (500 for anything not raised on purpose)."""
    if isinstance(exc, AppError):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.status_code
    return 500


def problem_type(slug: str) -> str:
    """The stable `type` URI of a kind of problem."""
    return PROBLEM_TYPE_BASE + slug


def _from_app_error(exc: AppError) -> ProblemDetailsException:
    extra: dict[str, Any] = dict(exc.extensions)
    if exc.errors:
        extra["errors"] = [msgspec.to_builtins(problem) for problem in exc.errors]
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return ProblemDetailsException(
        type_=problem_type(exc.slug),
        title=exc.title,
        status_code=exc.status,
        detail=exc.detail,
        extra=extra or None,
        headers=headers,
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _field_of(key: str | None, message: str) -> str:
    # msgspec names the location as "at `$.estimates.reach`"; Litestar puts it in the message.
    path = message.split("at `$.", 1)[1].rstrip("`").rstrip() if "at `$." in message else ""
    unknown = re.search(r"(?:unknown|missing required) field `([^`]+)`", message)
    if unknown:
        return f"{path}.{unknown.group(1)}" if path else unknown.group(1)
    if path:
        return path
    return "body" if key in (None, "data") else key


def _from_validation(exc: ValidationException) -> ProblemDetailsException:
    raw = exc.extra if isinstance(exc.extra, list) else []
    errors = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", exc.detail))
        if item.get("key") == "data" and message == "'data'":
            # Litestar's words for a request without the body the handler reads.
            message = "a request body is required"
        field = _field_of(item.get("key"), message)
        source = getattr(item.get("source"), "value", item.get("source"))
        if source and source != "body":
            # Parameters are named as the caller spells them: `query.pageSize`, not `page_size`.
            field = f"{source}.{_camel(item.get('key') or field)}"
        errors.append(FieldProblem(field=field, message=message.split(" - at `", 1)[0]))
    if not errors:
        errors.append(FieldProblem(field="body", message=str(exc.detail)))
    malformed = any(
        "malformed" in problem.message.lower() or "json is" in problem.message.lower() for problem in errors
    )
    cls = MalformedBody if malformed else InvalidInput
    detail = "; ".join(f"{problem.field}: {problem.message}" for problem in errors)
    return _from_app_error(cls(detail, errors=errors))


_HTTP_SLUGS = {
    400: ("malformed-body", "The request body could not be read"),  # Litestar's 400s: unparseable bodies
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Your role does not allow this"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("body-too-large", "The request body is too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("too-many-requests", "Too many requests"),
}


def _from_http(exc: HTTPException) -> ProblemDetailsException:
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "Request failed"))
    if exc.status_code >= 500:
        slug, title = "internal-error", "Internal server error"
    detail = exc.detail if exc.status_code < 500 else "The server could not complete the request."
    return ProblemDetailsException(
        type_=problem_type(slug), title=title, status_code=exc.status_code, detail=detail, headers=exc.headers
    )


def _from_unexpected(exc: Exception) -> ProblemDetailsException:
    # A lost or refused database connection is answered with 503, not 500.
    if database_unavailable(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        # A connection lost during COMMIT leaves the outcome unknown, so promise nothing.
        return _from_app_error(
            ServiceUnavailable("The database is unavailable; the request did not complete. Try again shortly.")
        )
    # Leak nothing: the traceback goes to the log (log_exceptions="always"), not to the caller.
    return ProblemDetailsException(
        type_=problem_type("internal-error"),
        title="Internal server error",
        status_code=500,
        detail="The server could not complete the request; its changes were rolled back.",
    )


def problem_details_plugin() -> ProblemDetailsPlugin:
    """The plugin every service app installs; a specific mapping wins over the blanket one."""
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            enable_for_all_http_exceptions=True,
            exception_to_problem_detail_map={
                AppError: _from_app_error,
                ValidationException: _from_validation,
                HTTPException: _from_http,
                Exception: _from_unexpected,
            },
        )
    )
