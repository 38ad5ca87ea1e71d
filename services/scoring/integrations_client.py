"""The scoring service's typed client of the integrations service: is an idea delivered in Jira?

Services talk over HTTP. Apart, the scoring service calls `ROADMAP_INTEGRATIONS_URL` (or
`ROADMAP_SERVICES_URL`); in the single process the same client calls the integrations app in
the same process, through an in-process transport, so the code path is the same. The caller's
token is passed on, so the integrations service checks the caller's rights on the portfolio
itself. When the integrations service cannot answer, whether the idea is delivered is unknown:
a 503 naming the dependency, and nothing is written.
"""

from __future__ import annotations

from urllib.parse import quote
from uuid import UUID

import httpx
import msgspec

from services.kit.problems import Forbidden, ServiceUnavailable
from services.kit.service_client import ServiceClient
from services.scoring.delivered import JiraTracking

DEPENDENCY = {"dependency": "integrations"}


class IntegrationsClient(ServiceClient):
    INTERNAL_BASE_URL = "http://integrations.internal"
    # A person waits on this call: a short connect, a modest read.
    TIMEOUT = httpx.Timeout(10.0, connect=3.0)

    def on_behalf_of(self, token: str) -> CallerTracker:
        """A tracker (delivered.Tracker) that asks with the caller's token."""
        return CallerTracker(self, token)

    async def idea_tracking(self, portfolio_id: UUID, ref: str, *, token: str) -> JiraTracking:
        """Whether the idea is tracked in Jira, and delivered there."""
        try:
            response = await self.http.get(
                f"/integrations/portfolios/{portfolio_id}/ideas/{quote(ref, safe='')}/delivery",
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TransportError:
            raise ServiceUnavailable(
                "The integrations service cannot be reached, so whether the idea is delivered in Jira is "
                "unknown; nothing was written.",
                extensions=DEPENDENCY,
            ) from None
        if response.status_code in (401, 403, 404):
            raise Forbidden("The integrations service refused to tell the caller whether the idea is delivered.")
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"The integrations service failed ({response.status_code}); nothing was written.",
                extensions=DEPENDENCY,
            )
        try:
            return msgspec.json.decode(response.content, type=JiraTracking)
        except msgspec.DecodeError:
            raise ServiceUnavailable(
                "The integrations service answered something unreadable; nothing was written.", extensions=DEPENDENCY
            ) from None


class CallerTracker:
    def __init__(self, client: IntegrationsClient, token: str) -> None:
        self.client = client
        self.token = token

    async def tracking(self, portfolio_id: UUID, ref: str) -> JiraTracking:
        return await self.client.idea_tracking(portfolio_id, ref, token=self.token)
