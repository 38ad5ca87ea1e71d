"""Structured JSON logs with a request id, and Prometheus metrics.

One ASGI middleware does both, so every request is counted, timed and logged once,
with the same request id the caller sees in `X-Request-ID`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import time
import uuid
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# What the app wants said on the request's one access-log line (why it was refused, say).
_notes_var: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("request_notes", default=None)


def note_on_access_line(**fields: Any) -> None:
    """Add `fields` to the current request's access-log line (nothing outside a request)."""
    notes = _notes_var.get()
    if notes is not None:
        notes.update(fields)


_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# One registry per process: in the single-process default the three apps share it.
REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# Hot reads answered from the read cache (kit/read_cache.py) or read afresh, by read.
READ_CACHE = Counter(
    "read_cache_answers_total", "Hot reads answered from the read cache or read again", ["read", "outcome"],
    registry=REGISTRY,
)  # fmt: skip


class JsonFormatter(logging.Formatter):
    """One JSON object per line, carrying the current request id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send every log line to stderr as JSON. Safe to call more than once."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True


# Set by `roadmap serve --workers N` for its server processes: each writes its metrics to
# files there, and a scrape, whichever process answers it, adds up all of them.
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def metrics_payload() -> tuple[bytes, str]:
    """The Prometheus exposition of the metrics, and its content type.

    One process: its own registry. Several server processes on one port: all of theirs
    together, or each scrape would see only the process that happened to answer it.
    """
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)
        return generate_latest(combined), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


# Label values must come from a small, fixed set: every new value is a new time series kept
# for the life of the process, so a caller inventing methods or paths could grow the
# exposition (and Prometheus) without bound.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method_of(scope: Scope) -> str:
    method = scope.get("method", "")
    return method if method in _METHODS else "other"


def _route_of(scope: Scope) -> str:
    # The route template, not the raw path; a path no route matched has none.
    return scope.get("path_template") or "unmatched"


class ObservabilityMiddleware:
    """Times, counts and logs each HTTP request; sets and echoes `X-Request-ID`."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.log = logging.getLogger(f"roadmap.{service}.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        notes: dict[str, Any] = {}
        notes_token = _notes_var.set(notes)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            method = _method_of(scope)
            REQUESTS.labels(self.service, method, route, str(status)).inc()
            LATENCY.labels(self.service, method, route).observe(elapsed)
            self.log.info(
                "request",
                extra={
                    "fields": {
                        "service": self.service,
                        "method": str(scope.get("method", "-"))[:32],
                        "path": scope.get("path"),
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                        **notes,
                    }
                },
            )
            _notes_var.reset(notes_token)
            request_id_var.reset(token)
