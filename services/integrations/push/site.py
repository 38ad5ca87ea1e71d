"""What a push learns of the Jira site before it writes: owners' accounts and the "Start date" field.

Each distinct owner e-mail costs one user search, once per push (the answers are kept for the
push); the fields are read once, and only when a phase has a start date to write. An owner whose
e-mail maps to no account, or to several, is reported in the push record and the issue is left
unassigned: an unmapped owner never fails a push. Jira being unavailable is another matter: that
is raised, and the push waits for Jira as in any outage.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from services.integrations.jira_client import JiraClient, JiraError, unavailable
from services.integrations.jira_types import User
from services.integrations.payloads import JiraSite
from services.integrations.planned import PlannedIdea, PlannedPhase

START_DATE_FIELD_NAME = "start date"


class UnmappedOwner(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """An owner the push could not make the assignee of their ideas' issues, and why."""

    subject: str
    name: str
    email: str | None
    ideas: list[str]
    reason: str


def account_for(email: str, users: Sequence[User]) -> tuple[str | None, str]:
    """The account a user search's answer gives for `email`, or None and why not.

    Jira hides most e-mail addresses, so a single active account found for the full address is
    taken as the owner's; an account that shows its address must show this one."""
    active = [user for user in users if user.active and user.accountType == "atlassian"]
    shown = [user for user in active if user.emailAddress and user.emailAddress.strip().lower() == email]
    if len(shown) == 1:
        return shown[0].accountId, ""
    candidates = [user for user in active if not user.emailAddress] if not shown else shown
    if len(candidates) == 1:
        return candidates[0].accountId, ""
    if not candidates:
        return None, "no active Jira account matches this e-mail"
    return None, f"{len(candidates)} Jira accounts match this e-mail; assign the issues in Jira"


async def learn_site(
    jira: JiraClient, ideas: Sequence[PlannedIdea], phases: Sequence[PlannedPhase]
) -> tuple[JiraSite, list[UnmappedOwner]]:
    """The site facts the push's fields need, and the owners it could not map."""
    accounts: dict[str, str] = {}
    reasons: dict[str, str] = {}
    by_owner: dict[tuple[str, str, str | None], list[str]] = {}
    for idea in ideas:
        if idea.owner is not None:
            email = idea.owner.email.strip().lower() if idea.owner.email and idea.owner.email.strip() else None
            by_owner.setdefault((idea.owner.subject, idea.owner.name, email), []).append(idea.ref)
    for _, _, email in by_owner:
        if email is None or email in accounts or email in reasons:
            continue  # one search per distinct e-mail, kept for the push
        try:
            account, reason = account_for(email, await jira.find_users(email))
        except JiraError as exc:
            if unavailable(exc):
                raise
            account, reason = (
                None,
                f"Jira refused the user search ({exc.status}): the account may lack the Browse users permission",
            )
        if account is not None:
            accounts[email] = account
        else:
            reasons[email] = reason
    unmapped = [
        UnmappedOwner(
            subject=subject,
            name=name,
            email=email,
            ideas=sorted(refs),
            reason="has no e-mail address" if email is None else reasons[email],
        )  # fmt: skip
        for (subject, name, email), refs in sorted(by_owner.items(), key=lambda item: (item[0][1], item[0][0]))
        if email is None or email in reasons
    ]
    start_field = None
    if any(phase.start is not None for phase in phases):
        start_field = next(
            (
                field.id
                for field in await jira.fields()
                if field.custom and field.name.strip().lower() == START_DATE_FIELD_NAME
            ),
            None,
        )
    return JiraSite(accounts=accounts, start_date_field=start_field), unmapped
