"""Unhandled errors are logged with their traceback; a database outage is not, once per request."""

from __future__ import annotations

import logging

import pytest

from services.kit.app import log_unhandled_error

pytestmark = pytest.mark.unit

SCOPE = {"type": "http", "path": "/scoring/portfolios"}


def log_while_handling(error: Exception, logger: logging.Logger) -> None:
    try:
        raise error
    except Exception:
        log_unhandled_error(logger, SCOPE, [])


def test_a_bug_is_logged_with_its_traceback(caplog):
    with caplog.at_level(logging.ERROR):
        log_while_handling(KeyError("missing"), logging.getLogger("test.unhandled"))
    (record,) = caplog.records
    assert record.exc_info is not None and isinstance(record.exc_info[1], KeyError)
    assert "/scoring/portfolios" in record.getMessage()


def test_a_refused_database_connection_is_left_to_the_503_warning(caplog):
    with caplog.at_level(logging.DEBUG):
        log_while_handling(ConnectionRefusedError(111, "Connect call failed"), logging.getLogger("test.unhandled"))
    assert caplog.records == []
