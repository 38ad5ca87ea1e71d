"""Which audit entries a push event makes: pure, from the event's data."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from services.roadmap.plans.push_audit import ROLE_NOT_RECORDED, push_entries, push_origin, read_push_event

STARTED_AT = "2026-12-07T09:30:00+00:00"
ENDED_AT = datetime(2026, 12, 7, 9, 31, tzinfo=UTC)
COUNTS = {"created": 5, "found": 1, "updated": 0, "unchanged": 0, "markedUnplanned": 0, "linked": 0,
          "linksFound": 0, "failed": 2, "toDo": 1}  # fmt: skip


def data(**more) -> dict:
    return {"pushId": "p-1", "planId": "plan-1", "connectionId": "c-1", "startedBy": "dl@example.com",
            "startedByRole": "delivery", "startedAt": STARTED_AT, "link": "/integrations/pushes/p-1", **more}  # fmt: skip


def test_a_start_is_one_entry_naming_who_asked_with_which_role():
    [entry] = push_entries("push.started", read_push_event(data()), at=ENDED_AT)
    assert (entry.action, entry.origin, entry.actor, entry.actor_role) == (
        "push_started", "push:p-1:started", "dl@example.com", "delivery",
    )  # fmt: skip
    assert entry.at == datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    assert entry.detail == {"pushId": "p-1", "connectionId": "c-1", "link": "/integrations/pushes/p-1"}


def test_an_end_carries_its_start_then_the_state_and_the_counts_unchanged():
    event = read_push_event(data(status="partial", counts=COUNTS, cancelledBy=None, extra="ignored"))
    started, finished = push_entries("push.finished", event, at=ENDED_AT)
    assert started.origin == push_origin("p-1", "started") and finished.origin == push_origin("p-1", "finished")
    assert finished.action == "push_finished" and finished.at == ENDED_AT and finished.actor == "dl@example.com"
    assert finished.detail["status"] == "partial" and finished.detail["counts"] == COUNTS
    assert finished.detail["startedBy"] == "dl@example.com" and "cancelledBy" not in finished.detail


def test_a_cancelled_push_names_who_cancelled_it():
    event = read_push_event(data(status="cancelled", counts=COUNTS, cancelledBy="lead@example.com"))
    assert push_entries("push.finished", event, at=ENDED_AT)[1].detail["cancelledBy"] == "lead@example.com"


def test_a_push_started_before_roles_were_recorded_says_so():
    event = read_push_event({k: v for k, v in data().items() if k != "startedByRole"})
    assert push_entries("push.started", event, at=ENDED_AT)[0].actor_role == ROLE_NOT_RECORDED


def test_an_event_that_does_not_name_who_started_the_push_makes_no_entry():
    assert read_push_event({"pushId": "p-1", "planId": "plan-1", "status": "succeeded"}) is None
    assert read_push_event("not an object") is None
    with pytest.raises(ValueError):
        push_entries("plan.approved", read_push_event(data()), at=ENDED_AT)


def test_the_rules_import_no_web_database_or_http_library():
    code = (
        "import sys\n"
        "import services.roadmap.plans.push_audit\n"
        "print(','.join(sorted(m for m in ('litestar', 'asyncpg', 'httpx') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
