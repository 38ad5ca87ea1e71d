"""HTTP controllers of the living backlog: an idea's history, and reviews of the journey map."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from services.kit.clock import Clock
from services.kit.db import Conn
from services.kit.params import caller_of
from services.scoring import history, staleness
from services.scoring.actuals_api import ACTUALS_ROUTES

Now = NamedDependency[Clock]
_FACETS: dict[str, staleness.ReviewedFacet] = {
    "persona": "persona",
    "journeyStage": "journey_stage",
    "touchpoint": "touchpoint",
}


class ChangeOut(msgspec.Struct, rename="camel", kw_only=True):
    field: str
    before: Any = None
    after: Any = None


class HistoryEntryOut(msgspec.Struct, rename="camel", kw_only=True):
    """One write that changed an idea: who, when, and each field from what to what."""

    at: datetime
    by: str
    action: str
    changes: list[ChangeOut]


class JourneyReviewIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """A persona, journey stage or touchpoint of the map that was looked at and still holds."""

    facet: Literal["persona", "journeyStage", "touchpoint"]
    value: Annotated[str, Meta(min_length=1, max_length=1000)]


class JourneyReviewOut(msgspec.Struct, rename="camel", kw_only=True):
    facet: str
    value: str
    reviewed_at: datetime
    reviewed_by: str


class LivingController(Controller):
    path = "/portfolios/{portfolio_id:uuid}"
    tags = ["reviews"]

    @get("/ideas/{ref:str}/history", operation_id="getIdeaHistory")
    async def idea_history(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], ref: FromPath[str]
    ) -> list[HistoryEntryOut]:
        """Every change of an idea, oldest first: who, when, and each field from what to what."""
        rows = await history.idea_history(conn, caller_of(request), portfolio_id, ref)
        return [
            HistoryEntryOut(at=row.at, by=row.by, action=row.action,
                            changes=[ChangeOut(field=c.field, before=c.before, after=c.after) for c in row.changes])
            for row in rows
        ]  # fmt: skip

    @post("/journey/reviews", operation_id="reviewJourneyValue", status_code=200)
    async def review(
        self, request: Request, conn: Conn, clock: Now, portfolio_id: FromPath[UUID], data: JSONBody[JourneyReviewIn]
    ) -> JourneyReviewOut:
        """Record that a persona, journey stage or touchpoint of the map was reviewed now; the
        journey map shows when, and flags those not reviewed within the review cadence."""
        row = await staleness.review_journey_value(
            conn, caller_of(request), portfolio_id, facet=_FACETS[data.facet], value=data.value, at=clock()
        )
        wire = {name: wire for wire, name in _FACETS.items()}
        return JourneyReviewOut(
            facet=wire[row.facet], value=row.value, reviewed_at=row.reviewed_at, reviewed_by=row.reviewed_by
        )


LIVING_ROUTES = [LivingController, *ACTUALS_ROUTES]
