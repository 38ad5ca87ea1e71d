"""The identity provider's published signing keys (`ROADMAP_JWKS_URL`), fetched without blocking.

A key fetch happens on the request path (a token signed with a key we have not seen yet), so
it must never stall the process: it is an async HTTP call with a short timeout, one at a time
(concurrent requests wait for the same fetch), and at most one per `min_refresh_seconds`, so a
stream of tokens naming made-up key ids cannot turn the server into a load generator against
the identity provider. Keys are kept for `lifespan_seconds`; when a refresh fails, the keys
already known stay in use, so an identity-provider hiccup does not log everyone out.

The URL is the operator's (an environment variable), not a user's, so it does not go
through the outbound guard.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx
import jwt

from services.kit.problems import ServiceUnavailable, Unauthorized

log = logging.getLogger("roadmap.auth")

# A JWKS document is a few kilobytes; anything much larger is not one.
MAX_DOCUMENT_BYTES = 256 * 1024


class KeySet:
    """The keys published at one URL, refreshed lazily and at a bounded rate."""

    def __init__(
        self, url: str, *, timeout_seconds: float, min_refresh_seconds: float, lifespan_seconds: float = 300.0
    ) -> None:
        self.url = url
        self.timeout_seconds = timeout_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.lifespan_seconds = lifespan_seconds
        self.keys: dict[str | None, Any] = {}
        self.fetched_at: float | None = None  # when the keys were last fetched successfully
        self.tried_at: float | None = None  # when a fetch was last started, successful or not
        self._fetch: asyncio.Task[None] | None = None

    async def key_for(self, token: str) -> Any:
        """The key that signed `token`, fetching the published keys if needed.

        401 when the token names a key the provider does not publish; 503 when the provider
        could not be reached and no key is known yet.
        """
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The token is not valid: {type(exc).__name__}.") from None
        if not isinstance(kid, str | None):
            raise Unauthorized("The token's key id (kid) is not a string.")
        now = time.monotonic()
        stale = self.fetched_at is None or now - self.fetched_at > self.lifespan_seconds
        if (stale or kid not in self.keys) and self._may_refresh(now):
            await self._refresh()
        if not self.keys and self.fetched_at is None:
            raise ServiceUnavailable("The identity provider's keys could not be fetched; try again shortly.")
        key = self.keys.get(kid)
        if key is None and kid is None and len(self.keys) == 1:
            key = next(iter(self.keys.values()))  # a provider with one key may leave `kid` out
        if key is None:
            raise Unauthorized("The token is signed with a key the identity provider does not publish.")
        return key

    def _may_refresh(self, now: float) -> bool:
        running = self._fetch is not None and not self._fetch.done()
        return running or self.tried_at is None or now - self.tried_at >= self.min_refresh_seconds

    async def _refresh(self) -> None:
        loop = asyncio.get_running_loop()
        if self._fetch is None or self._fetch.done() or self._fetch.get_loop() is not loop:
            self.tried_at = time.monotonic()
            self._fetch = loop.create_task(self._download())
        # Shielded: a caller that goes away does not cancel the fetch the others wait for.
        await asyncio.shield(self._fetch)

    async def _download(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=self.timeout_seconds, follow_redirects=False) as client:
                response = await client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            if len(response.content) > MAX_DOCUMENT_BYTES:
                raise ValueError(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
            keys = _usable_keys(json.loads(response.content))
        except (httpx.HTTPError, ValueError, RecursionError, jwt.PyJWTError) as exc:
            log.warning("identity provider keys not fetched", extra={"fields": {"error": type(exc).__name__}})
            return
        self.keys = keys
        self.fetched_at = time.monotonic()


def _usable_keys(document: Any) -> dict[str | None, Any]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document")
    keys: dict[str | None, Any] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            keys[entry.get("kid")] = jwt.PyJWK(entry).key
        except jwt.PyJWTError:
            continue  # a key type this library does not know: the others still count
    return keys


_key_sets: dict[str, KeySet] = {}


def key_set(url: str, *, timeout_seconds: float, min_refresh_seconds: float) -> KeySet:
    """The process's one KeySet for `url`: the three services of one process share their keys."""
    existing = _key_sets.get(url)
    if existing is None or (existing.timeout_seconds, existing.min_refresh_seconds) != (
        timeout_seconds,
        min_refresh_seconds,
    ):
        existing = _key_sets[url] = KeySet(
            url, timeout_seconds=timeout_seconds, min_refresh_seconds=min_refresh_seconds
        )
    return existing
