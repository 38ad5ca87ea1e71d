"""Waiting out a Jira outage: the waits between attempts, when to give up, what counts as Jira being
down, and how the operations of a push cut short are reported with those of the attempt that finished."""

from __future__ import annotations

import random

import pytest

from services.integrations.jira_client import JiraAuthError, JiraError, JiraUnavailable, OutcomeUnknown, unavailable
from services.integrations.push_plan import Operation, merge_operations, operation_key
from services.integrations.retry import OutagePolicy
from services.kit.settings import Settings, SettingsError

pytestmark = pytest.mark.unit


def test_the_waits_grow_from_the_first_to_the_cap_jittered_in_the_upper_half() -> None:
    policy = OutagePolicy(first=10.0, cap=300.0, give_up=10**9)
    rng = random.Random(5)
    for waits in range(12):
        ceiling = min(300.0, 10.0 * 2**waits)
        drawn = [policy.wait(waits, None, 0.0, rng) for _ in range(200)]
        assert all(w is not None and ceiling / 2 <= w <= ceiling for w in drawn)
        assert max(drawn) - min(drawn) > 0.3 * ceiling  # jittered, not one value for every push
    assert all(policy.wait(waits, None, 0.0, rng) <= 300.0 for waits in (40, 63, 64, 10**6))


def test_a_longer_retry_after_from_jira_wins_a_shorter_one_does_not() -> None:
    policy = OutagePolicy(first=10.0, cap=60.0, give_up=10**6)
    rng = random.Random(1)
    assert policy.wait(0, 3600.0, 0.0, rng) == 3600.0  # a quota reset an hour away: retrying earlier fails
    assert 5.0 <= (policy.wait(0, 1.0, 0.0, rng) or 0) <= 10.0


def test_the_last_wait_ends_at_the_give_up_time_and_after_it_the_push_gives_up() -> None:
    policy = OutagePolicy(first=10.0, cap=600.0, give_up=1000.0)
    rng = random.Random(2)
    assert policy.wait(8, None, 990.0, rng) == pytest.approx(10.0)
    assert policy.wait(0, 3600.0, 400.0, rng) == pytest.approx(600.0)
    assert policy.wait(0, None, 1000.0, rng) is None
    assert policy.wait(0, None, 5000.0, rng) is None


@pytest.mark.parametrize("bad", [{"first": 0.0}, {"first": 20.0, "cap": 10.0}, {"give_up": -1.0}])
def test_an_outage_policy_refuses_impossible_bounds(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        OutagePolicy(**{"first": 1.0, "cap": 10.0, "give_up": 100.0, **bad})


@pytest.mark.parametrize(
    ("error", "waits"),
    [
        (JiraUnavailable(503, ["Service unavailable"]), True),
        (JiraUnavailable(429, [], retry_after=3600), True),
        (JiraUnavailable(None, ["ConnectError: [Errno 111] Connection refused"]), True),
        (OutcomeUnknown("POST", "/rest/api/3/issue", "ReadTimeout"), True),
        (JiraError(500, ["Internal server error"]), True),
        (JiraError(400, [], {"summary": "You must specify a summary of the issue."}), False),
        (JiraError(404, ["Issue does not exist"]), False),
        (JiraAuthError(401, ["You are not authenticated."]), False),
        (JiraAuthError(403, ["No permission"]), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_errors_of_jira_itself_make_a_push_wait(error: Exception, waits: bool) -> None:
    assert unavailable(error) is waits


def test_work_of_an_attempt_cut_short_is_reported_instead_of_the_next_attempts_leave_alone() -> None:
    earlier = [
        Operation(action="create_epic", phase="improve"),
        Operation(action="create_issue", phase="improve", idea="A1"),
    ]
    later = [
        Operation(action="leave_alone", phase="improve", issue_key="PROJ-1"),
        Operation(action="create_epic", phase="perfection"),
        Operation(action="leave_alone", phase="improve", idea="A1", issue_key="PROJ-2"),
        Operation(action="create_issue", phase="perfection", idea="C"),
        Operation(action="create_link", blocker="A1", blocked="C"),
        Operation(action="leave_alone", phase="discovery", idea="B", issue_key="PROJ-9"),
    ]
    merged = merge_operations(earlier, later)
    assert [op.action for op in merged] == [
        "create_epic",
        "create_issue",
        "create_epic",
        "create_issue",
        "create_link",
        "leave_alone",
    ]
    assert {operation_key(op) for op in merged} == {
        ("epic", "improve"), ("idea", "A1"), ("epic", "perfection"), ("idea", "C"), ("link", "A1", "C"), ("idea", "B"),
    }  # fmt: skip
    assert merge_operations([], later) == later


def test_jira_outage_settings_come_from_the_environment(tmp_path) -> None:
    env = {
        "ROADMAP_DATA_DIR": str(tmp_path),
        "ROADMAP_JIRA_CALL_RETRY_SECONDS": "5",
        "ROADMAP_JIRA_OUTAGE_FIRST_WAIT_SECONDS": "15",
        "ROADMAP_JIRA_OUTAGE_MAX_WAIT_SECONDS": "900",
        "ROADMAP_JIRA_OUTAGE_GIVE_UP_SECONDS": "3600",
    }
    settings = Settings.from_env(env)
    assert (settings.jira_call_retry_seconds, settings.jira_outage_first_wait_seconds) == (5.0, 15.0)
    assert (settings.jira_outage_max_wait_seconds, settings.jira_outage_give_up_seconds) == (900.0, 3600.0)
    defaults = Settings.from_env({"ROADMAP_DATA_DIR": str(tmp_path)})
    assert defaults.jira_outage_give_up_seconds == 6 * 3600 and defaults.jira_call_retry_seconds == 120
    with pytest.raises(SettingsError, match="ROADMAP_JIRA_OUTAGE_GIVE_UP_SECONDS"):
        Settings.from_env({**env, "ROADMAP_JIRA_OUTAGE_GIVE_UP_SECONDS": "-1"})
    with pytest.raises(SettingsError, match="FIRST_WAIT"):
        Settings.from_env({**env, "ROADMAP_JIRA_OUTAGE_FIRST_WAIT_SECONDS": "1000"})
