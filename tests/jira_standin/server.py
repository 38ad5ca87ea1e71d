"""A stand-in Jira Cloud on loopback: real HTTP, state in memory, official schemas enforced.

    with JiraStandin() as jira:
        httpx.post(f"{jira.base_url}/rest/api/3/issue", auth=jira.auth, json={...})

Every request body is checked against its operation's request schema in the official OpenAPI
document and every rich-text value against the ADF schema; a mismatch is answered with 400 (as
Jira would) *and* kept in `violations`, which the `jira` fixture turns into a test failure.
Faults are injected with `fail_next`, `timeout_after_create` and `fail_bulk_elements`; `down`
takes the whole Jira away (every request answered 503, or connections refused) until `up`;
`slow` makes every answer take longer, so a test can act while a client's work is under way.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import itertools
import json
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import (
    contract,
    jql,
    render,
    site_handlers,  # noqa: F401  (registers the site operations)
)
from .handlers import HANDLERS, Request, Response
from .state import TRANSITIONS, ContractViolation, JiraError, JiraState
from .webhooks import WebhookDelivery, status_change_delivery

_request_ids = itertools.count(1)
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
CREATE_OPERATIONS = ("createIssue", "createIssues")
ELEMENT_TRY_AGAIN = "The issue could not be created. Please try again."


@dataclass(frozen=True)
class Violation:
    """A request the official schemas reject, or one the stand-in cannot answer faithfully."""

    operation: str
    method: str
    path: str
    problems: list[str]


@dataclass(frozen=True)
class RecordedRequest:
    operation: str
    method: str
    path: str
    status: int | None  # None when the connection was dropped without an answer


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    method: str | None
    status: int
    retry_after: int | None
    remaining: int


@dataclass
class _ElementFault:
    status: int
    body: dict[str, Any]  # an ErrorCollection: errorMessages and errors
    remaining: int | None


@dataclass
class _Outage:
    status: int | None  # None: connections are refused
    retry_after: int | None
    creates_first: int  # creates still answered before it begins
    begun: bool = False


class JiraStandin:
    def __init__(
        self,
        *,
        email: str = "robot@example.com",
        api_token: str = "test-api-token",
        projects: tuple[str, ...] = ("PROJ",),
    ) -> None:
        self.auth = (email, api_token)
        self.state = JiraState(projects)
        self.violations: list[Violation] = []
        self.calls: Counter[str] = Counter()  # by operationId, every request that arrived
        self.requests: list[RecordedRequest] = []
        self._lock = threading.RLock()
        self._faults: list[_Fault] = []
        self._drops_after_create = 0
        self._hang_seconds = 0.0
        self._delay_seconds = 0.0
        # Per upcoming bulk create, in order: element index -> (status, element errors).
        self._bulk_failures: list[dict[int, tuple[int, dict[str, Any]]]] = []
        # By label: elements carrying it fail (status, element errors) while `remaining` (None: always).
        self._label_failures: dict[str, _ElementFault] = {}
        self._outage: _Outage | None = None
        self._open: set[socket.socket] = set()  # connections being served, cut when Jira goes away
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> JiraStandin:
        self._listen()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._stop_listening()

    def _listen(self) -> None:
        handler = type("Handler", (_Handler,), {"standin": self})
        deadline = time.monotonic() + 5
        while True:  # coming back up takes the same port, which another socket may hold a moment
            try:
                self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
                break
            except OSError as error:
                if error.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._httpd.daemon_threads = True
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="jira-standin", daemon=True
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        httpd, thread, self._httpd, self._thread = self._httpd, self._thread, None, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> JiraStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._port, "start() the stand-in first"
        return f"http://127.0.0.1:{self._port}"

    @property
    def host(self) -> str:
        """`host:port` as ROADMAP_OUTBOUND_ALLOWED_HOSTS names it: the server reaches the stand-in only so."""
        assert self._port, "start() the stand-in first"
        return f"127.0.0.1:{self._port}"

    # -- faults ------------------------------------------------------------------------------
    def fail_next(
        self,
        path_pattern: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` requests whose path matches `path_pattern` (re.search) with `status`.

        429 carries Retry-After (integer seconds, omitted when None), X-RateLimit-Reset and
        RateLimit-Reason as in CONTRACT.md §4; other statuses (503) carry Retry-After when given.
        """
        with self._lock:
            self._faults.append(_Fault(re.compile(path_pattern), method and method.upper(), status, retry_after, times))

    def down(self, status: int | None = 503, *, retry_after: int | None = None, after_creates: int = 0) -> None:
        """Take Jira away until `up()`: every request is answered `status` (before authentication,
        as Jira's edge does; Retry-After when given), or with `status=None` no connection is
        accepted and open ones are cut, so a client's connect is refused.

        With `after_creates` the outage begins once that many more creates have been answered.
        """
        with self._lock:
            self._outage = _Outage(status, retry_after, after_creates)
        if after_creates == 0:
            self._begin_outage()

    def up(self) -> None:
        """End the outage `down` began: Jira answers again, on the same address."""
        with self._lock:
            refused = self._outage is not None and self._outage.begun and self._outage.status is None
            self._outage = None
        if refused and not self._stopping.is_set():
            self._listen()

    def _begin_outage(self) -> None:
        with self._lock:
            outage = self._outage
            if outage is None or outage.begun:
                return
            outage.begun = True
            cut = list(self._open) if outage.status is None else []
        if outage.status is None:
            self._stop_listening()
            for sock in cut:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _outage_ahead(self, operation: str, response: Response) -> bool:
        """Count an answered create towards an outage set to begin after some; True when it begins now."""
        outage = self._outage
        if outage is None or outage.begun or operation not in CREATE_OPERATIONS or response.status != 201:
            return False
        outage.creates_first -= 1
        return outage.creates_first <= 0

    def timeout_after_create(self, n: int = 1, *, hang_seconds: float = 0.0) -> None:
        """Make the next `n` create calls (single or bulk) create, then drop the connection unanswered.

        With `hang_seconds` the server first waits that long, to outlast a client's read timeout.
        """
        with self._lock:
            self._drops_after_create += n
            self._hang_seconds = hang_seconds

    def slow(self, seconds: float) -> None:
        """Answer every request `seconds` later than it would be (0 for at once again); the body
        is still checked against the schemas, and the delay ends early when the stand-in stops."""
        if not 0 <= seconds < float("inf"):
            raise ValueError(f"a delay is a finite, non-negative number of seconds, not {seconds!r}")
        with self._lock:
            self._delay_seconds = seconds

    def fail_bulk_elements(
        self, indexes: set[int], *, status: int = 400, errors: dict[str, str] | None = None, times: int = 1
    ) -> None:
        """Make the next `times` bulk creates reject these 0-based elements with Jira's per-element error."""
        failure = (status, errors or {"summary": "The stand-in Jira was told to reject this element."})
        with self._lock:
            for upcoming in range(times):
                if upcoming == len(self._bulk_failures):
                    self._bulk_failures.append({})
                self._bulk_failures[upcoming].update(dict.fromkeys(indexes, failure))

    def fail_elements_labelled(
        self, labels: set[str], *, times: int | None = None, status: int = 400,
        errors: dict[str, str] | None = None, messages: list[str] | None = None,
    ) -> None:  # fmt: skip
        """Make bulk-create elements carrying any of `labels` fail, wherever they sit in a request.

        Each label's element fails `times` times (None: every time), answered 201 with Jira's
        `errors` entry naming its `failedElementNumber` (400 when no element of the request was
        made). Without `errors` it fails as Jira's "please try again" does, naming no field.
        """
        messages = messages if messages is not None else ([] if errors else [ELEMENT_TRY_AGAIN])
        with self._lock:
            for label in labels:
                self._label_failures[label] = _ElementFault(
                    status, {"errorMessages": messages, "errors": errors or {}}, times
                )

    def element_failure(self, update: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """The failure a bulk element carrying a faulted label meets now (called under the lock)."""
        labels = (update.get("fields") or {}).get("labels") or []
        for label in labels:
            fault = self._label_failures.get(label) if isinstance(label, str) else None
            if fault is not None and fault.remaining != 0:
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault.status, fault.body
        return None

    def clear_violations(self) -> list[Violation]:
        """Take the recorded violations, for a test that provoked them on purpose."""
        with self._lock:
            taken, self.violations = self.violations, []
            return taken

    # -- inspection --------------------------------------------------------------------------
    def issue(self, key: str) -> dict[str, Any]:
        """The issue as `GET /rest/api/3/issue/{key}` would show it (all fields)."""
        with self._lock:
            return render.issue(self.state, self.state.find(key), self.base_url, render.wanted_fields(["*all"], ()))

    def add_label(self, key: str, label: str) -> None:
        """Add a label to an issue as a person in Jira would."""
        with self._lock:
            values = self.state.find(key).values
            values["labels"] = [*values.get("labels", []), label]

    def add_user(self, email: str, display_name: str, *, active: bool = True, email_visible: bool = False) -> str:
        """An account of the site, found by the user search; its accountId."""
        with self._lock:
            return self.state.add_user(email, display_name, active=active, email_visible=email_visible)

    def without_start_date_field(self) -> None:
        """Make this a site without Jira Software's "Start date" field."""
        with self._lock:
            self.state.custom_fields.pop("customfield_10015", None)

    def blocks(self) -> set[tuple[str, str]]:
        """(blocker, blocked) pairs of every Blocks link: inwardIssue blocks outwardIssue."""
        with self._lock:
            return {(link.inward_key, link.outward_key) for link in self.state.links if link.type["name"] == "Blocks"}

    def set_status(self, key: str, status_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Move an issue as a person in Jira would; returns the issue rendered before and after."""
        with self._lock:
            before = self.issue(key)
            transition = next(tid for tid, s in TRANSITIONS.items() if s.name == status_name)
            self.state.transition(self.state.find(key), transition)
            return before, self.issue(key)

    def status_change_webhook(
        self, key: str, status_name: str, *, secret: str | None, identifier: str | None = None
    ) -> WebhookDelivery:
        """Move the issue to `status_name` and return the signed delivery Jira would send for it."""
        before, after = self.set_status(key, status_name)
        return status_change_delivery(before, after, secret=secret, identifier=identifier)

    # -- request handling (called from server threads) ---------------------------------------
    def _handle(self, method: str, raw_path: str, headers: Any, raw_body: bytes) -> Response:
        url = urlsplit(raw_path)
        path, query = url.path, parse_qs(url.query)
        operation, params = _route(method, path)
        with self._lock:
            self.calls[operation] += 1
            if self._outage is not None and self._outage.begun:
                if self._outage.status is None:  # arrived on a connection opened before the outage
                    return Response(0, drop=True)
                return self._fault_response(self._outage.status, self._outage.retry_after)
            if not self._authenticated(headers.get("Authorization", "")):
                return Response(401, {"errorMessages": [NOT_AUTHENTICATED], "errors": {}})
            fault = self._take_fault(method, path)
        if fault is not None:
            return self._fault_response(fault.status, fault.retry_after)
        if operation == "unknown":
            self._record(operation, method, path, [f"the stand-in has no route for {method} {path}"])
            return Response(404, {"errorMessages": ["null for uri: " + path], "errors": {}})
        try:
            if problems := _query_problems(operation, method, query):
                raise ContractViolation(problems)
            body = self._body(operation, method, path, raw_body)
            with self._lock:
                handler = HANDLERS.get(operation)
                if handler is None:
                    self._record(operation, method, path, [f"the stand-in does not implement {operation}"])
                    return Response(
                        501, {"errorMessages": [f"{operation} is not implemented by the stand-in"], "errors": {}}
                    )
                response = handler(self, Request(operation, method, path, params, query, body))
                if operation in CREATE_OPERATIONS and response.status == 201 and self._drops_after_create:
                    self._drops_after_create -= 1
                    response = Response(0, drop=True)
                if self._outage_ahead(operation, response):
                    response.outage_begins = True
        except ContractViolation as error:
            self._record(operation, method, path, error.problems)
            return Response(error.status, error.body)
        except jql.UnsupportedJql as error:
            self._record(operation, method, path, [f"JQL the stand-in does not implement: {error}"])
            return Response(400, {"errorMessages": [str(error)], "errors": {}})
        except jql.JqlError as error:
            return Response(400, {"errorMessages": [str(error)], "errors": {}})
        except JiraError as error:
            return Response(error.status, error.body)
        return response

    def _authenticated(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            email, _, token = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return (email, token) == self.auth

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining and fault.pattern.search(path) and fault.method in (None, method):
                fault.remaining -= 1
                return fault
        return None

    @staticmethod
    def _fault_response(status: int, retry_after: int | None) -> Response:
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if status == 429:
            reset = datetime.now(UTC) + timedelta(seconds=retry_after or 0)
            headers |= {"X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"), "RateLimit-Reason": "jira-burst-based"}
            return Response(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers)
        return Response(
            status, {"errorMessages": ["Service unavailable (injected by the stand-in)."], "errors": {}}, headers
        )

    def _record(self, operation: str, method: str, path: str, problems: list[str]) -> None:
        with self._lock:
            self.violations.append(Violation(operation, method, path, problems))

    def _body(self, operation: str, method: str, path: str, raw: bytes) -> Any:
        schema = _body_schemas().get(operation)
        if not raw:
            if schema is not None or operation in _FREE_BODY:
                raise ContractViolation([f"{method} {path} needs a JSON body"])
            return None
        try:
            body = json.loads(raw)
        except ValueError as error:
            raise ContractViolation([f"body is not JSON: {error}"]) from None
        if schema is not None and (problems := contract.schema_errors(schema, body)):
            raise ContractViolation([f"{schema}: {p}" for p in problems])
        return body

    def _log(self, operation: str, method: str, path: str, status: int | None) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(operation, method, path, status))


# Endpoints the contract names that the vendored subset lacks: routed here, bodies checked for ADF.
_EXTRA_ROUTES = (
    ("GET", re.compile(r"^/rest/api/3/issue/(?P<issueIdOrKey>[^/]+)/comment$"), "getComments"),
    ("POST", re.compile(r"^/rest/api/3/issue/(?P<issueIdOrKey>[^/]+)/comment$"), "addComment"),
    ("GET", re.compile(r"^/rest/api/3/status$"), "getStatuses"),
)
_FREE_BODY = {"addComment", "setIssueProperty"}


def _body_schemas() -> dict[str, str]:
    return {op.operation_id: op.body_schema for op in contract.operations() if op.body_schema}


def _query_problems(operation_id: str, method: str, query: dict[str, list[str]]) -> list[str]:
    """The ways a request's query breaks its operation's declared parameters (documented operations only)."""
    documented = next(
        (op for op in contract.operations() if op.operation_id == operation_id and op.method == method), None
    )
    return [] if documented is None else contract.query_errors(documented, query)


def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
    for op in contract.operations():
        if op.method == method and (match := op.pattern.match(path)):
            return op.operation_id, match.groupdict()
    for extra_method, pattern, operation_id in _EXTRA_ROUTES:
        if extra_method == method and (match := pattern.match(path)):
            return operation_id, match.groupdict()
    return "unknown", {}


class _Handler(BaseHTTPRequestHandler):
    standin: JiraStandin
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    timeout = 30

    def setup(self) -> None:
        super().setup()
        with self.standin._lock:
            self.standin._open.add(self.connection)

    def finish(self) -> None:
        with self.standin._lock:
            self.standin._open.discard(self.connection)
        super().finish()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:  # the client went away before its body arrived (it was killed): Jira never saw it
            self.close_connection = True
            return
        path = urlsplit(self.path).path
        self.standin._stopping.wait(self.standin._delay_seconds)
        try:
            response = self.standin._handle(self.command, self.path, self.headers, raw)
        except Exception as error:  # a bug in the stand-in must fail the test, not hang it
            self.standin._record("internal", self.command, path, [f"stand-in crashed: {error!r}"])
            response = Response(500, {"errorMessages": ["Internal server error"], "errors": {}})
        operation = _route(self.command, path)[0]
        if response.drop:
            self.standin._log(operation, self.command, path, None)
            self.standin._stopping.wait(self.standin._hang_seconds)  # outlast the client's read timeout
            self.close_connection = True
            return
        self.standin._log(operation, self.command, path, response.status)
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-AAccountId", "5b10ac8d82e05b22cc7d4ef5")
        self.send_header("X-AREQUESTID", f"{next(_request_ids)}x1")  # Jira's request id, on every answer
        self.end_headers()
        self.wfile.write(payload)
        if response.outage_begins:  # only now: this answer still goes out
            self.wfile.flush()
            self.standin._begin_outage()

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the test log is the record
        return


__all__ = ["JiraStandin", "RecordedRequest", "Violation"]
