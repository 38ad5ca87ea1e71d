"""Secret references: where a secret is read from, kept instead of the secret itself.

A reference is `env:NAME` (an environment variable of the process that uses it) or
`file:/absolute/path` (a mounted secret file, as Kubernetes and Docker provide). Only the
reference is stored or returned by an API; the value is read when it is needed and is never
logged, returned or put in an exception message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

_ENV = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]{0,127})$")
_FILE = re.compile(r"^file:(/[^\x00]{1,1023})$")


class SecretError(ValueError):
    """A reference that is malformed, or names nothing readable. Its message holds no secret."""


def check_reference(reference: str) -> None:
    """Raise SecretError unless `reference` is a well-formed `env:` or `file:` reference."""
    if not (_ENV.fullmatch(reference) or _FILE.fullmatch(reference)):
        raise SecretError("must be env:VARIABLE_NAME or file:/absolute/path")


def read_secret(reference: str, environ: Mapping[str, str] | None = None) -> str:
    """The secret a reference names; SecretError (naming the reference only) when absent or empty."""
    env = os.environ if environ is None else environ
    if match := _ENV.fullmatch(reference):
        value = env.get(match.group(1), "")
    elif match := _FILE.fullmatch(reference):
        try:
            value = Path(match.group(1)).read_text().strip()
        except OSError:
            raise SecretError(f"{reference} cannot be read") from None
    else:
        raise SecretError("must be env:VARIABLE_NAME or file:/absolute/path")
    if not value:
        raise SecretError(f"{reference} is empty or not set")
    return value
