"""Owners in Jira terms: which account a user search's answer gives, and departments as labels."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from services.integrations.delivery_view import TrackedIdea, delivery_view
from services.integrations.jira_types import User
from services.integrations.payloads import department_label
from services.integrations.push.site import account_for

HIDDEN = User(accountId="a-1", displayName="Ann Lee")  # most accounts hide their address


@pytest.mark.parametrize(
    ("users", "account"),
    [
        ([HIDDEN], "a-1"),
        ([User(accountId="a-2", emailAddress="ANN@bank.example")], "a-2"),
        ([User(accountId="a-3", emailAddress="someone@else.example")], None),
        ([HIDDEN, User(accountId="a-4")], None),  # two hidden accounts: nobody can tell which
        ([User(accountId="a-5", active=False)], None),
        ([User(accountId="a-6", accountType="app")], None),
        ([HIDDEN, User(accountId="a-7", emailAddress="ann@bank.example")], "a-7"),  # the one showing the address wins
        ([], None),
    ],
)
def test_an_account_is_taken_only_when_one_matches(users, account):
    found, reason = account_for("ann@bank.example", users)
    assert found == account
    assert (reason == "") == (account is not None)


@pytest.mark.parametrize(
    ("department", "label"),
    [
        ("Customer Service", "Customer-Service"),
        ("  Cards\t and  Loans ", "Cards-and-Loans"),
        ("rmap-ops", "dept-rmap-ops"),
        ("   ", None),
    ],
)
def test_a_department_label_has_no_spaces_and_never_passes_for_ours(department, label):
    assert department_label(department) == label


def test_an_idea_is_late_when_not_done_after_its_phase_ended():
    kpi = {"key": "nps", "name": "NPS", "unit": "points", "direction": "increase", "baseline": 20.0, "target": 30.0}
    snapshot = {
        "phases": [{"key": "improve", "end": "2027-09-30"}],
        "ideas": [{"ref": "A", "title": "Fix fees", "persona": "Busy parent", "journey_stage": "onboarding",
                   "score": 3.5, "kpis": [kpi]}],
    }  # fmt: skip
    tracked = [TrackedIdea(ref=r, issue_key=f"P-{n}", phase="improve", status_category=c, cost=10.0)
               for n, (r, c) in enumerate([("A", "new"), ("B", "done"), ("C", "indeterminate")])]  # fmt: skip
    on_the_day = delivery_view(tracked, snapshot, date(2027, 9, 30))
    after = delivery_view(tracked, snapshot, date(2027, 10, 1))
    assert [row.late for row in on_the_day[1]] == [False, False, False]
    assert [(row.ref, row.title, row.late) for row in after[1]] == [
        ("A", "Fix fees", True),
        ("B", "B", False),
        ("C", "C", True),
    ]
    # Each row reads as the plan's does: persona, journey stage, cost, value and KPIs.
    row = msgspec.to_builtins(after[1][0])
    assert (row["persona"], row["journeyStage"], row["cost"], row["value"]) == ("Busy parent", "onboarding", 10.0, 3.5)
    assert row["kpis"] == [kpi]
    [phase] = after[0]
    assert (phase.to_do, phase.in_progress, phase.done, phase.late, phase.budget_delivered) == (1, 1, 1, 2, 10.0)
