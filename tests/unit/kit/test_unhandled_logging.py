"""Unhandled errors are logged with their traceback; a database outage is not, once per request."""

from __future__ import annotations

import logging

import pytest
from litestar.exceptions import HTTPException, ValidationException

from services.kit.app import log_unhandled_error
from services.kit.problems import InvalidInput, NotFound, ServiceUnavailable, Unauthorized

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


@pytest.mark.parametrize(
    "error",
    [
        Unauthorized("no token"),
        NotFound("no portfolio"),
        InvalidInput("bad"),
        HTTPException(status_code=405),
        ValidationException("x"),
    ],
    ids=["401", "404", "422", "405", "400"],
)
def test_a_refusal_is_no_error_in_the_log(caplog, error):
    with caplog.at_level(logging.DEBUG):
        log_while_handling(error, logging.getLogger("test.unhandled"))
    assert caplog.records == []  # its reason goes on the request's access line instead


def test_a_deliberate_503_is_one_error_line_without_a_traceback(caplog):
    with caplog.at_level(logging.DEBUG):
        log_while_handling(ServiceUnavailable("the identity provider is down"), logging.getLogger("test.unhandled"))
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is None
