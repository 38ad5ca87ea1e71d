"""What a typed client of another of our services shares: one httpx client, two ways to reach it.

Services talk over HTTP. Apart, a client calls the other service's base URL (a setting); in
the single process it calls the other app in the same process through an in-process
transport, so the code path is the same. Subclasses name the in-process host and their
timeout, and add the calls.
"""

from __future__ import annotations

from typing import ClassVar, Self

import httpx


class ServiceClient:
    # The base URL in the single process: only the in-process transport sees it.
    INTERNAL_BASE_URL: ClassVar[str]
    TIMEOUT: ClassVar[httpx.Timeout]

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    @classmethod
    def over_http(cls, base_url: str) -> Self:
        return cls(httpx.AsyncClient(base_url=base_url, timeout=cls.TIMEOUT))

    @classmethod
    def in_process(cls, app: object) -> Self:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        return cls(httpx.AsyncClient(transport=transport, base_url=cls.INTERNAL_BASE_URL, timeout=cls.TIMEOUT))

    async def close(self) -> None:
        await self.http.aclose()
