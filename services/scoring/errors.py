"""The one exception of the scoring domain, in a module of its own so every domain module can raise it."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken. `field` names where, in the API's terms."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
