"""A stand-in Jira Cloud for the test suite (see server.py; the fixture is `jira` in tests/integration/conftest.py)."""

from .server import JiraStandin, RecordedRequest, Violation
from .webhooks import WebhookDelivery, sign, status_change_delivery

__all__ = ["JiraStandin", "RecordedRequest", "Violation", "WebhookDelivery", "sign", "status_change_delivery"]
