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
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from services.kit.outbound import OutboundGuard

from .jira_answers import NOT_JIRA, ErrorFields, error_fields, is_jira_error_answer, summary
from .jira_types import (
    BulkAnswer,
    BulkFailure,
    BulkResult,
    CreatedIssue,
    Field,
    FoundIssue,
    IssueType,
    IssueTypePage,
    Myself,
    Project,
    SearchPage,
    User,
    WireHit,
)
from .retry import RetryPolicy, Verdict, retry_after_seconds, verdict

log = logging.getLogger(__name__)

API = "/rest/api/3"
MAX_BULK = 50  # Jira's limit for POST /issue/bulk
BLOCKS = "Blocks"
# No answer Jira gives a push is near this; a site sending more is not answering as Jira does.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class JiraError(Exception):
    """Jira refused the request; `messages` and `field_errors` are its errorMessages and errors,
    cleaned and bounded (jira_answers.summary), so they may be shown to a user."""

    def __init__(
        self, status: int | None, messages: Sequence[str] = (), field_errors: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.messages, self.field_errors = summary(messages, field_errors or {})
        detail = "; ".join([*self.messages, *(f"{k}: {v}" for k, v in self.field_errors.items())])
        if status is None:  # no answer, or none as Jira answers: the messages are ours
            super().__init__(detail or NOT_JIRA)
        else:
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
        self.method, self.path, self.reason = method, path, reason  # `reason` is shown: our words or Jira's status
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
        cls,
        site_url: str,
        email: str,
        api_token: str,
        *,
        guard: OutboundGuard,
        timeout: httpx.Timeout = httpx.Timeout(30, connect=5),
        **options: Any,
    ) -> JiraClient:
        """A client for `site_url` with basic auth (email + API token); close it with `aclose()`.

        The site is a URL a user gave, so every connection goes through `guard` (OutboundRefused
        when it refuses the site); redirects are never followed.
        """
        http = guard.client(
            site_url.rstrip("/"), auth=httpx.BasicAuth(email, api_token), timeout=timeout,
            headers={"Accept": "application/json"},
        )  # fmt: skip
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
        return await self._call("GET", f"{API}/myself", safe=True, answer=Myself)

    async def project(self, key: str) -> Project:
        """The project, to check it exists and the account can see it."""
        return await self._call("GET", f"{API}/project/{quote(key, safe='')}", safe=True, answer=Project)

    async def issue_types(self, project_key: str) -> list[IssueType]:
        """The issue types the account can create in the project (createmeta, every page)."""
        types: list[IssueType] = []
        while True:
            path = (
                f"{API}/issue/createmeta/{quote(project_key, safe='')}/issuetypes?startAt={len(types)}&maxResults=200"
            )
            page = await self._call("GET", path, safe=True, answer=IssueTypePage)
            types += page.issueTypes
            if not page.issueTypes or len(types) >= page.total:
                return types

    async def find_users(self, query: str) -> list[User]:
        """The accounts a user search (`GET /user/search`) finds for `query`, such as an e-mail address."""
        return await self._call(
            "GET", f"{API}/user/search?query={quote(query, safe='')}&maxResults=10", safe=True, answer=list[User]
        )

    async def fields(self) -> list[Field]:
        """Every field of the site, system and custom (`GET /field`), to find one by its name."""
        return await self._call("GET", f"{API}/field", safe=True, answer=list[Field])

    async def create_issue(self, issue: Mapping[str, Any]) -> CreatedIssue:
        """Create one issue from an IssueUpdateDetails body (`{"fields": ..., ...}`); may raise OutcomeUnknown."""
        return await self._call("POST", f"{API}/issue", body=issue, safe=False, answer=CreatedIssue)

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
        # A 400 in the bulk shape means every element failed: that is a result, not an error.
        answer = await self._call(
            "POST", path, body={"issueUpdates": list(issues)}, safe=False, answer=BulkAnswer, also_on=400
        )
        failed = [
            BulkFailure(
                e.failedElementNumber, e.status, *summary(e.elementErrors.errorMessages, e.elementErrors.errors)
            )
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
        await self._call("PUT", f"{API}/issue/{quote(key, safe='')}", body=issue, safe=True)

    async def add_comment(self, key: str, adf_body: Mapping[str, Any]) -> str:
        """Add an ADF comment and return its id; a repeat would duplicate it, so may raise OutcomeUnknown."""
        path = f"{API}/issue/{quote(key, safe='')}/comment"
        return (await self._call("POST", path, body={"body": adf_body}, safe=False, answer=CommentAnswer)).id

    async def link_issues(self, link: Mapping[str, Any]) -> None:
        """Create an issue link from a ready LinkIssueRequestJsonBean body.

        For Blocks, `inwardIssue` is the blocker and `outwardIssue` the blocked issue (CONTRACT.md
        §2.3). Jira answers 201 to a duplicate, so this is retried like an idempotent call.
        """
        await self._call("POST", f"{API}/issueLink", body=link, safe=True)

    async def search_by_labels(
        self,
        project_key: str,
        labels: Sequence[str],
        *,
        fields: Sequence[str] = ("labels", "status", "parent"),
        page_size: int = 100,
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
            page = await self._call("POST", f"{API}/search/jql", body=body, safe=True, answer=SearchPage)
            found += [_found(hit) for hit in page.issues]
            if not page.nextPageToken:
                return found
            token = page.nextPageToken

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        safe: bool,
        answer: type[T] | None = None,
        also_on: int | None = None,
    ) -> T:
        """Jira's answer to one call, decoded as `answer`, after the retries the module docstring describes.

        A refusal no retry fixes raises JiraError. `also_on` is an error status whose body is
        the answer too (a bulk create where every element failed).
        """
        attempts, waited = 0, 0.0
        while True:
            attempts += 1
            outcome = await self._attempt(method, path, body, answer, also_on)
            if isinstance(outcome, _NoAnswer):
                judged, status, retry_after = verdict(None, safe=safe, sent=outcome.sent), None, None
                messages, reason, shown = [NOT_JIRA], outcome.reason, "no answer from Jira"
            else:
                status = outcome.status
                judged = verdict(status, safe=safe)
                reason = shown = f"Jira answered {status}"
                if judged is Verdict.ANSWER:
                    if outcome.decoded is not None or status < 400:
                        return outcome.decoded
                    raise _refusal(outcome)
                messages = outcome.errors.errorMessages
                retry_after = retry_after_seconds(outcome.headers, datetime.now(UTC))
            if judged is Verdict.UNKNOWN:
                raise OutcomeUnknown(method, path, shown)
            delay = self._retry.delay(attempts - 1, retry_after, self._rng)
            if not self._retry.allows(attempts, waited, delay):
                raise JiraUnavailable(status, messages, retry_after=retry_after)
            log.warning("jira %s %s failed (%s); retry %d in %.1fs", method, path, reason, attempts, delay)
            await self._sleep(delay)
            waited += delay

    async def _attempt(
        self, method: str, path: str, body: Any, answer: type | None, also_on: int | None
    ) -> _Answer | _NoAnswer:
        """One request; whatever did not come as Jira answers is a `_NoAnswer`, like a closed port."""
        try:
            async with self._http.stream(method, path, json=body) as response:
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > MAX_ANSWER_BYTES:
                        return _NoAnswer(
                            f"answered {response.status_code} with more than {MAX_ANSWER_BYTES} bytes", sent=True
                        )
        except (httpx.TransportError, httpx.DecodingError) as error:
            # Only the error's name and text go on: its request holds the auth header, and an
            # exception raised in here would keep it reachable as __context__.
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            return _NoAnswer(reason, sent=not isinstance(error, NOT_SENT))
        status, raw = response.status_code, bytes(content)
        if 200 <= status < 300 or status == also_on and _lists_errors(raw):
            decoded = _decoded(raw, answer)
            if decoded is not _UNDECODABLE:
                return _Answer(status, response.headers, decoded, ErrorFields())
            if status < 300:
                return _NoAnswer(f"answered {status} with a body that is not Jira's", sent=True)
        if status < 400 or not is_jira_error_answer(raw, response.headers):
            return _NoAnswer(f"answered {status}, not as Jira does", sent=True)  # redirects included: never followed
        return _Answer(status, response.headers, None, error_fields(raw) or ErrorFields())


T = TypeVar("T")
_UNDECODABLE = object()


class _Answer(msgspec.Struct, frozen=True):
    """An answer that came as Jira answers: decoded on success, its error fields otherwise."""

    status: int
    headers: Any  # httpx.Headers: case-insensitive
    decoded: Any
    errors: ErrorFields


class _NoAnswer(msgspec.Struct, frozen=True):
    reason: str  # for the log only: it may describe what a non-Jira host did
    sent: bool  # False when the connection was never made, so Jira cannot have acted


class CommentAnswer(msgspec.Struct, frozen=True):
    id: str


def _decoded(raw: bytes, answer: type | None) -> Any:
    if answer is None:
        return None
    try:
        return msgspec.json.decode(raw, type=answer)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):  # RecursionError: absurdly deep
        return _UNDECODABLE


def _lists_errors(raw: bytes) -> bool:
    try:
        decoded = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return False
    return isinstance(decoded, dict) and isinstance(decoded.get("errors"), list)


def _refusal(answer: _Answer) -> JiraError:
    kind = JiraAuthError if answer.status in (401, 403) else JiraError
    return kind(answer.status, answer.errors.errorMessages, answer.errors.errors)


def _found(hit: WireHit) -> FoundIssue:
    status = hit.fields.status
    category = status.statusCategory.key if status and status.statusCategory else None
    # On the blocker, a Blocks link names the blocked issue as its outwardIssue (CONTRACT.md §2.3).
    blocks = tuple(
        link.outwardIssue.key
        for link in hit.fields.issuelinks
        if link.type.name == BLOCKS and link.outwardIssue is not None
    )
    parent = hit.fields.parent.key if hit.fields.parent else None
    return FoundIssue(hit.id, hit.key, hit.fields.labels, category, parent, status.name if status else "", blocks)


def _quote(value: str) -> str:
    """A JQL string literal: labels and keys may hold characters JQL reserves."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
