"""A typed async client for the few Jira Cloud REST v3 calls a push needs (shared/jira/CONTRACT.md).

Transport only: request bodies (IssueUpdateDetails, issue links, ADF comments) are built by the
pure payload builders and passed in; answers come back as small Structs.

Retries (rules in `retry.py`). 429 and 503 mean Jira refused without acting, so every call waits
the `Retry-After` Jira asks for (or until `X-RateLimit-Reset`, else a jittered backoff) and tries
again; so does a connection that could not be made. A read timeout, a dropped connection or a
500/502/504 leaves the outcome in doubt: calls safe to repeat (GET, search, PUT edit, issue
links) are retried (502/504 and no answer) and creates and comments raise `OutcomeUnknown`.
Jira has no idempotency key, so after `OutcomeUnknown` the caller must search by the issue's
label (`search_by_labels`) before creating again, or it may make a duplicate. When the retries
run out the call raises `JiraUnavailable`; `unavailable(error)` tells those, and the other
errors a later attempt may pass, from the ones no retry will fix.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec

from .retry import RetryPolicy, Verdict, retry_after_seconds, verdict

log = logging.getLogger(__name__)

API = "/rest/api/3"
MAX_BULK = 50  # Jira's limit for POST /issue/bulk
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class JiraError(Exception):
    """Jira refused the request; `messages` and `field_errors` are its errorMessages and errors."""

    def __init__(self, status: int | None, messages: Sequence[str] = (), field_errors: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.messages = list(messages)
        self.field_errors = dict(field_errors or {})
        detail = "; ".join([*self.messages, *(f"{k}: {v}" for k, v in self.field_errors.items())])
        super().__init__(f"Jira answered {status}" + (f": {detail}" if detail else ""))


class JiraAuthError(JiraError):
    """401 or 403: the email and API token are wrong, expired, or lack a permission."""


class JiraUnavailable(JiraError):
    """Retries ran out (attempts or waiting budget); `retry_after` is Jira's last requested wait."""

    def __init__(self, status: int | None, messages: Sequence[str] = (), *, retry_after: float | None = None) -> None:
        super().__init__(status, messages)
        self.retry_after = retry_after


class OutcomeUnknown(Exception):
    """A create or comment was sent but no answer came back: it may or may not have happened.

    Do not send it again blindly: search by the issue's label first (Jira has no idempotency key).
    """

    def __init__(self, method: str, path: str, reason: str) -> None:
        self.method, self.path, self.reason = method, path, reason
        super().__init__(f"{method} {path}: outcome unknown ({reason}); search by label before creating again")


def unavailable(error: BaseException) -> bool:
    """Whether Jira, not the request, stood in the way, so the same work may pass later.

    True when its retries ran out on refusals (429, 503), on a Jira that could not be reached
    or on gateway errors, when an answer was lost (`OutcomeUnknown`), and for any 5xx; False for
    what a retry will not fix (400, 401, 403, 404: the request, the account or the project).
    """
    if isinstance(error, JiraUnavailable | OutcomeUnknown):
        return True
    return isinstance(error, JiraError) and error.status is not None and error.status >= 500


class CreatedIssue(msgspec.Struct, frozen=True):
    """An issue Jira made; `index` is its 0-based element in a bulk create (None for a single one)."""

    id: str
    key: str
    index: int | None = None


class BulkFailure(msgspec.Struct, frozen=True):
    """An element of a bulk create that Jira rejected, with its errorMessages and field errors."""

    index: int
    status: int
    messages: list[str]
    field_errors: dict[str, str]


class BulkResult(msgspec.Struct, frozen=True):
    """One bulk create: what was made and which elements to fix and send again."""

    created: list[CreatedIssue]
    failed: list[BulkFailure]


class FoundIssue(msgspec.Struct, frozen=True):
    """An issue found by search; `status_category` is `new`, `indeterminate` or `done`."""

    id: str
    key: str
    labels: list[str]
    status_category: str | None
    parent_key: str | None


class Myself(msgspec.Struct, frozen=True):
    """The account behind the API token."""

    account_id: str = msgspec.field(name="accountId")
    display_name: str = msgspec.field(name="displayName", default="")


class Project(msgspec.Struct, frozen=True):
    """A project the account can see."""

    id: str
    key: str
    name: str


class _ErrorCollection(msgspec.Struct):
    errorMessages: list[str] = []
    errors: dict[str, str] = {}


class _BulkError(msgspec.Struct):
    status: int
    failedElementNumber: int
    elementErrors: _ErrorCollection = msgspec.field(default_factory=_ErrorCollection)


class _BulkAnswer(msgspec.Struct):
    issues: list[CreatedIssue] = []
    errors: list[_BulkError] = []


class _Keyed(msgspec.Struct):
    key: str


class _Status(msgspec.Struct):
    statusCategory: _Keyed | None = None


class _Fields(msgspec.Struct):
    labels: list[str] = []
    status: _Status | None = None
    parent: _Keyed | None = None


class _Hit(msgspec.Struct):
    id: str
    key: str = ""
    fields: _Fields = msgspec.field(default_factory=_Fields)


class _Page(msgspec.Struct):
    issues: list[_Hit] = []
    nextPageToken: str | None = None


class JiraClient:
    """Calls to one Jira site through an injected `httpx.AsyncClient` (base URL, auth, timeouts set)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._http = http
        self._retry = retry
        self._sleep = sleep
        self._rng = rng or random.Random()

    @classmethod
    def connect(
        cls, site_url: str, email: str, api_token: str, *, timeout: httpx.Timeout = httpx.Timeout(30, connect=5), **options: Any
    ) -> JiraClient:
        """A client for `site_url` with basic auth (email + API token); close it with `aclose()`."""
        http = httpx.AsyncClient(
            base_url=site_url.rstrip("/"), auth=httpx.BasicAuth(email, api_token), timeout=timeout,
            headers={"Accept": "application/json"},
        )
        return cls(http, **options)

    def __repr__(self) -> str:  # never the auth header: it carries the API token
        return f"JiraClient({str(self._http.base_url)!r})"

    async def aclose(self) -> None:
        """Close the underlying HTTP client."""
        await self._http.aclose()

    async def __aenter__(self) -> JiraClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def myself(self) -> Myself:
        """The account the token belongs to: the cheapest check that the credentials work."""
        return msgspec.convert(await self._json("GET", f"{API}/myself", safe=True), Myself)

    async def project(self, key: str) -> Project:
        """The project, to check it exists and the account can see it."""
        return msgspec.convert(await self._json("GET", f"{API}/project/{key}", safe=True), Project)

    async def create_issue(self, issue: Mapping[str, Any]) -> CreatedIssue:
        """Create one issue from an IssueUpdateDetails body (`{"fields": ..., ...}`); may raise OutcomeUnknown."""
        return msgspec.convert(await self._json("POST", f"{API}/issue", body=issue, safe=False), CreatedIssue)

    async def create_issues(self, issues: Sequence[Mapping[str, Any]]) -> BulkResult:
        """Create up to 50 issues in one call; rejected elements come back in `failed`, not as an error.

        Jira lists the created issues without their element numbers, in request order as far as
        anyone has seen (CONTRACT.md §8), so each is matched to the elements that did not fail, in
        order. Should the counts not agree, nobody can tell which element became which issue, so
        that is OutcomeUnknown too: search by label.
        """
        if not 0 < len(issues) <= MAX_BULK:
            raise ValueError(f"a bulk create takes 1 to {MAX_BULK} issues, not {len(issues)}")
        path = f"{API}/issue/bulk"
        response = await self._send("POST", path, body={"issueUpdates": list(issues)}, safe=False)
        if response.status_code not in (201, 400) or response.status_code == 400 and not _is_bulk_answer(response):
            _raise_for(response)  # 400 with the bulk shape means every element failed: that is a result
        answer = msgspec.json.decode(response.content, type=_BulkAnswer)
        failed = [
            BulkFailure(e.failedElementNumber, e.status, e.elementErrors.errorMessages, e.elementErrors.errors)
            for e in sorted(answer.errors, key=lambda e: e.failedElementNumber)
        ]
        rejected = {f.index for f in failed}
        made = [i for i in range(len(issues)) if i not in rejected]
        if len(made) != len(answer.issues):
            raise OutcomeUnknown("POST", path, f"{len(answer.issues)} issues created for {len(made)} accepted elements")
        created = [CreatedIssue(issue.id, issue.key, index) for index, issue in zip(made, answer.issues, strict=True)]
        return BulkResult(created, failed)

    async def edit_issue(self, key: str, issue: Mapping[str, Any]) -> None:
        """Edit an issue with an IssueUpdateDetails body; safe to repeat, so retried on any transient fault."""
        _raise_for(await self._send("PUT", f"{API}/issue/{key}", body=issue, safe=True))

    async def add_comment(self, key: str, adf_body: Mapping[str, Any]) -> str:
        """Add an ADF comment and return its id; a repeat would duplicate it, so may raise OutcomeUnknown."""
        answer = await self._json("POST", f"{API}/issue/{key}/comment", body={"body": adf_body}, safe=False)
        return str(answer["id"])

    async def link_issues(self, link: Mapping[str, Any]) -> None:
        """Create an issue link from a ready LinkIssueRequestJsonBean body.

        For Blocks, `inwardIssue` is the blocker and `outwardIssue` the blocked issue (CONTRACT.md
        §2.3). Jira answers 201 to a duplicate, so this is retried like an idempotent call.
        """
        _raise_for(await self._send("POST", f"{API}/issueLink", body=link, safe=True))

    async def search_by_labels(
        self, project_key: str, labels: Sequence[str], *, fields: Sequence[str] = ("labels", "status", "parent"), page_size: int = 100
    ) -> list[FoundIssue]:
        """Every issue of the project carrying any of `labels`, following nextPageToken to the end.

        Search is eventually consistent on Jira: an issue created a moment ago may be missing.
        Pass labels in chunks of a few hundred: they all go into one JQL query.
        """
        if not labels:
            return []
        jql = f"project = {_quote(project_key)} AND labels IN ({', '.join(_quote(label) for label in labels)}) ORDER BY key"
        found: list[FoundIssue] = []
        token: str | None = None
        while True:
            body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": page_size}
            if token:
                body["nextPageToken"] = token
            response = await self._send("POST", f"{API}/search/jql", body=body, safe=True)
            _raise_for(response)
            page = msgspec.json.decode(response.content, type=_Page)
            found += [_found(hit) for hit in page.issues]
            if not page.nextPageToken:
                return found
            token = page.nextPageToken

    async def _json(self, method: str, path: str, *, body: Any = None, safe: bool) -> Any:
        response = await self._send(method, path, body=body, safe=safe)
        _raise_for(response)
        return response.json()

    async def _send(self, method: str, path: str, *, body: Any, safe: bool) -> httpx.Response:
        """The final answer to one call, after the retries the module docstring describes."""
        attempts, waited = 0, 0.0
        while True:
            attempts += 1
            response = await self._attempt(method, path, body)
            if isinstance(response, _NoAnswer):
                judged, status, reason = verdict(None, safe=safe, sent=response.sent), None, response.reason
                messages, retry_after = [reason], None
            else:
                status = response.status_code
                judged, reason = verdict(status, safe=safe), f"Jira answered {status}"
                if judged is Verdict.ANSWER:
                    return response
                messages = _error_collection(response).errorMessages
                retry_after = retry_after_seconds(response.headers, datetime.now(UTC))
            if judged is Verdict.UNKNOWN:
                raise OutcomeUnknown(method, path, reason)
            delay = self._retry.delay(attempts - 1, retry_after, self._rng)
            if not self._retry.allows(attempts, waited, delay):
                raise JiraUnavailable(status, messages, retry_after=retry_after)
            log.warning("jira %s %s failed (%s); retry %d in %.1fs", method, path, reason, attempts, delay)
            await self._sleep(delay)
            waited += delay

    async def _attempt(self, method: str, path: str, body: Any) -> httpx.Response | _NoAnswer:
        try:
            return await self._http.request(method, path, json=body)
        except httpx.TransportError as error:
            # Only the error's name and text go on: its request holds the auth header, and an
            # exception raised in here would keep it reachable as __context__.
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            return _NoAnswer(reason, sent=not isinstance(error, NOT_SENT))


class _NoAnswer(msgspec.Struct, frozen=True):
    reason: str
    sent: bool  # False when the connection was never made, so Jira cannot have acted


def _is_bulk_answer(response: httpx.Response) -> bool:
    try:
        return isinstance(response.json().get("errors"), list)
    except (ValueError, AttributeError):
        return False


def _error_collection(response: httpx.Response) -> _ErrorCollection:
    try:
        return msgspec.json.decode(response.content, type=_ErrorCollection)
    except msgspec.DecodeError:  # gateways answer with HTML or nothing
        return _ErrorCollection(errorMessages=[response.reason_phrase] if response.reason_phrase else [])


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    errors = _error_collection(response)
    kind = JiraAuthError if response.status_code in (401, 403) else JiraError
    raise kind(response.status_code, errors.errorMessages, errors.errors)


def _found(hit: _Hit) -> FoundIssue:
    status = hit.fields.status
    category = status.statusCategory.key if status and status.statusCategory else None
    return FoundIssue(hit.id, hit.key, hit.fields.labels, category, hit.fields.parent.key if hit.fields.parent else None)


def _quote(value: str) -> str:
    """A JQL string literal: labels and keys may hold characters JQL reserves."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
