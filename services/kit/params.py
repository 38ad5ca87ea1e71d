"""Request parameters every service pages its lists with, spelled the same everywhere."""

from __future__ import annotations

from typing import Annotated

from litestar import Request
from litestar.params import QueryParameter

from services.kit.auth import Caller

Page = Annotated[int, QueryParameter(ge=1, le=1_000_000, description="1-based page number")]
PageSize = Annotated[int, QueryParameter(name="pageSize", ge=1, le=1000, description="items per page")]


def caller_of(request: Request) -> Caller:
    """Who is calling; the auth middleware has verified the token before any handler runs."""
    return request.user
