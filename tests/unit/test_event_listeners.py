"""Every in-house listener of an event names a job some service's worker runs, for an event we emit."""

from __future__ import annotations

from services.kit.events.envelope import EVENT_TYPES
from services.kit.events.service import LISTENERS
from services.worker import job_handlers


def test_each_listener_job_has_a_handler_and_listens_to_a_known_event():
    handlers = job_handlers()
    assert set(LISTENERS) <= set(EVENT_TYPES)
    assert all(entrypoint in handlers for entrypoints in LISTENERS.values() for entrypoint in entrypoints), LISTENERS


def test_the_plan_audit_hears_of_every_push_start_and_end():
    assert "roadmap.audit_push" in LISTENERS["push.started"] and "roadmap.audit_push" in LISTENERS["push.finished"]
