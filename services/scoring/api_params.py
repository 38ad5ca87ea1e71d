"""What the scoring service's controllers share: parameter types and the app state they read."""

from __future__ import annotations

from typing import Annotated

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from services.kit.clock import Clock
from services.kit.read_cache import ReadCache

Now = NamedDependency[Clock]
# Versions are PostgreSQL integers: a larger number is a 422 naming the parameter, not a failed query.
ModelVersion = Annotated[
    int | None, QueryParameter(ge=1, le=2_147_483_647, description="model version; the latest if absent")
]


def clock_of(request: Request) -> Clock:
    """The service's clock, for the hot reads: they take no dependency at all (scoring/app.py)."""
    return request.app.state.clock


def read_cache_of(request: Request) -> ReadCache:
    """The process's cache of hot reads' answers (kit/read_cache.py)."""
    return request.app.state.read_cache
