"""JSON log lines carry the request id; the problem table keeps its promises."""

from __future__ import annotations

import json
import logging

import pytest

from services.kit.observability import JsonFormatter, request_id_var

pytestmark = pytest.mark.unit


def test_a_log_line_is_one_json_object_with_the_request_id():
    token = request_id_var.set("req-42")
    try:
        record = logging.LogRecord("roadmap.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
        record.fields = {"status": 201}
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    entry = json.loads(line)
    assert entry["message"] == "hello world" and entry["request_id"] == "req-42"
    assert entry["status"] == 201 and entry["level"] == "info"


def test_outside_a_request_the_id_is_a_dash():
    record = logging.LogRecord("roadmap.test", logging.WARNING, __file__, 1, "idle", (), None)
    assert json.loads(JsonFormatter().format(record))["request_id"] == "-"
