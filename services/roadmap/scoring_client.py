"""The roadmap service's typed client of the scoring service.

Services talk over HTTP. Apart, the roadmap service calls `ROADMAP_SCORING_URL`; in the
single process the same client calls the scoring app in the same process, through an
in-process transport, so the code path is the same. The caller's token is passed on, so
the scoring service checks the caller's role itself.
"""

from __future__ import annotations

from uuid import UUID

import httpx
import msgspec

from services.kit.problems import FieldProblem, Forbidden, InvalidInput, NotFound, ServiceUnavailable
from services.kit.service_client import ServiceClient
from services.roadmap.scenarios.calibrate import CalibrationReport
from services.roadmap.scenarios.domain import Snapshot


class ScoringClient(ServiceClient):
    INTERNAL_BASE_URL = "http://scoring.internal"
    TIMEOUT = httpx.Timeout(30.0, connect=5.0)

    async def snapshot(self, portfolio_id: UUID, model_id: UUID, version: int | None, *, token: str) -> Snapshot:
        """The scores of every idea under a model version, with cost, effort and phases."""
        params = {} if version is None else {"version": version}
        try:
            response = await self.http.get(
                f"/scoring/portfolios/{portfolio_id}/models/{model_id}/snapshot",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TransportError:
            raise ServiceUnavailable("The scoring service cannot be reached; nothing was written.") from None
        if response.status_code == 404:
            which = "modelId" if "model" in response.text else "portfolioId"
            raise NotFound(
                response.json().get("detail", "not found"),
                errors=[FieldProblem(field=which, message="not found in the scoring service")],
            )
        if response.status_code in (401, 403):
            raise Forbidden("The scoring service refused to share these scores with the caller.")
        if response.status_code == 422:
            raise InvalidInput(response.json().get("detail", "invalid"), errors=[])
        if response.status_code >= 500:
            raise ServiceUnavailable("The scoring service failed; nothing was written.")
        response.raise_for_status()
        return msgspec.json.decode(response.content, type=Snapshot)

    async def calibration(self, portfolio_id: UUID, *, token: str) -> CalibrationReport:
        """The portfolio's calibration report: how delivery compared with the estimates, per team."""
        try:
            response = await self.http.get(
                f"/scoring/portfolios/{portfolio_id}/calibration", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError:
            raise ServiceUnavailable("The scoring service cannot be reached; nothing was written.") from None
        if response.status_code >= 500:
            raise ServiceUnavailable("The scoring service failed; nothing was written.")
        if response.status_code in (401, 403, 404):
            raise Forbidden("The scoring service refused to share the calibration with the caller.")
        response.raise_for_status()
        return msgspec.json.decode(response.content, type=CalibrationReport)
