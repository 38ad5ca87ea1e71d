"""Looking at a connection's Jira while a person waits: a dry run, a delivery refresh.

The same rules as a push (the operator's secrets, the outbound guard) with the short patience
of the connection check. Whatever stands in the way is told as a 422 naming the field (the
token, the site, the project) or, when Jira is unavailable, a 503: never a 200 as if all
were well.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from services.integrations.connection_check import CHECK_RETRY, CHECK_TIMEOUT, site_problems
from services.integrations.jira_access import JiraAccess
from services.integrations.jira_client import JiraAuthError, JiraClient, JiraError, OutcomeUnknown
from services.integrations.repository import ConnectionRow
from services.kit.outbound import OutboundRefused
from services.kit.problems import FieldProblem, InvalidInput, ServiceUnavailable
from services.kit.secrets import SecretError


def _refused(problems: list[FieldProblem]) -> InvalidInput:
    return InvalidInput(
        "Jira cannot be read with this connection: " + "; ".join(p.message for p in problems), errors=problems
    )


@contextlib.asynccontextmanager
async def reading(access: JiraAccess, connection: ConnectionRow) -> AsyncIterator[JiraClient]:
    """A client of the connection's Jira; what goes wrong while it is used becomes a 422 or a 503."""
    try:
        jira = access.client(connection, retry=CHECK_RETRY, timeout=CHECK_TIMEOUT)
    except SecretError as exc:
        raise _refused([FieldProblem(field="apiTokenRef", message=f"apiTokenRef: {exc} in this service")]) from None
    except OutboundRefused as exc:
        raise _refused([FieldProblem(field="siteUrl", message=f"siteUrl {exc}")]) from None
    async with jira:
        try:
            yield jira
        except JiraAuthError as exc:
            message = f"Jira refused accountEmail with the API token apiTokenRef names ({exc.status})"
            raise _refused([FieldProblem(field="apiTokenRef", message=message)]) from None
        except (JiraError, OutcomeUnknown, OutboundRefused, httpx.HTTPError) as exc:
            if isinstance(exc, OutcomeUnknown) or (
                isinstance(exc, JiraError) and (exc.status is None or exc.status >= 500)
            ):
                raise ServiceUnavailable(
                    "Jira cannot be read now (it did not answer, or answered as unavailable); try again shortly."
                ) from None
            raise _refused(site_problems(exc)) from None
