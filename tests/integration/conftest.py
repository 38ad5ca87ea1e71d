"""Fixtures for integration tests that talk to outside systems.

`jira_standin` lives in `tests/`, which pytest's default (prepend) import mode already puts on
sys.path because `tests/conftest.py` sits in a folder without `__init__.py`; the explicit
insert keeps the import working under `--import-mode=importlib` too.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS_DIR = str(Path(__file__).resolve().parents[1])
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from jira_standin import JiraStandin  # noqa: E402


@pytest.fixture
def jira() -> Iterator[JiraStandin]:
    """A fresh stand-in Jira on loopback; the test fails if any request broke the official schemas.

    A test that sends a bad request on purpose takes the violation with `jira.clear_violations()`.
    """
    server = JiraStandin().start()
    try:
        yield server
    finally:
        server.stop()
    if server.violations:
        details = "\n".join(
            f"- {v.method} {v.path} ({v.operation}): " + "; ".join(v.problems) for v in server.violations
        )
        pytest.fail(f"requests to the stand-in Jira broke the contract:\n{details}", pytrace=False)
