"""HTTP controllers of stakeholder ratings: parse, call one use case, return a schema."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import Meta

from services.kit.db import Conn
from services.kit.params import caller_of
from services.kit.problems import FieldProblem, InvalidInput
from services.scoring import voices_service
from services.scoring.ratings import KEY
from services.scoring.voices_service import IdeaRatings


class RatingIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """One stakeholder's view of the idea on a criterion, given for one of the portfolio's departments."""

    value: Annotated[float, Meta(ge=0, le=10)]
    department: Annotated[str, Meta(min_length=1, max_length=64)]
    comment: Annotated[str, Meta(max_length=2000)] = ""


class Output(msgspec.Struct, rename="camel", kw_only=True):
    """Base of response bodies."""


class RatingOut(Output):
    criterion: str
    subject: str
    department: str
    value: float
    comment: str
    rated_at: datetime


class DepartmentVoiceOut(Output):
    """A department's raters of one criterion: their mean, how many, and how far apart (max - min)."""

    department: str
    name: str
    customer_facing: bool
    weight: float
    mean: float
    count: int
    spread: float
    raters: list[str]


class CriterionRatingsOut(Output):
    """One criterion: each department's voice, the departments' weighted mean (what the
    stakeholder model reads) and the spread of the department means."""

    criterion: str
    value: float
    spread: float | None
    departments: list[DepartmentVoiceOut]


class IdeaRatingsOut(Output):
    ref: str
    criteria: list[CriterionRatingsOut]
    ratings: list[RatingOut]


def _criterion(criterion: str) -> str:
    if not KEY.fullmatch(criterion):
        message = "a criterion key is letters, digits, . _ - (e.g. customerValue)"
        raise InvalidInput(f"path.criterion: {message}", errors=[FieldProblem(field="path.criterion", message=message)])
    return criterion


class RatingController(Controller):
    path = "/portfolios/{portfolio_id:uuid}/ideas/{ref:str}/ratings"
    tags = ["ratings"]

    @put("/{criterion:str}", operation_id="rateIdea", status_code=HTTP_200_OK)
    async def rate(
        self,
        request: Request,
        conn: Conn,
        portfolio_id: FromPath[UUID],
        ref: FromPath[str],
        criterion: FromPath[str],
        data: JSONBody[RatingIn],
    ) -> Response[IdeaRatingsOut]:
        """Rate an idea 0..10 on a criterion for one of the portfolio's departments: one rating per
        idea, criterion and subject, replaced by the next (201 when new). Needs the role stakeholder."""
        created = await voices_service.rate(
            conn,
            caller_of(request),
            portfolio_id,
            ref,
            _criterion(criterion),
            value=data.value,
            department=data.department,
            comment=data.comment,
        )
        answer = ratings_out(ref, await voices_service.ratings(conn, caller_of(request), portfolio_id, ref))
        return Response(answer, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @delete("/{criterion:str}", operation_id="withdrawRating")
    async def withdraw(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], ref: FromPath[str], criterion: FromPath[str]
    ) -> None:
        """Take back your own rating of the idea on a criterion."""
        await voices_service.withdraw(conn, caller_of(request), portfolio_id, ref, _criterion(criterion))

    @get("", operation_id="getIdeaRatings")
    async def read(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], ref: FromPath[str]
    ) -> IdeaRatingsOut:
        """Per criterion and department: mean, count, spread and raters; and every rating given."""
        return ratings_out(ref, await voices_service.ratings(conn, caller_of(request), portfolio_id, ref))


def ratings_out(ref: str, found: IdeaRatings) -> IdeaRatingsOut:
    names = {department.key: department.name for department in found.departments}
    criteria = []
    for criterion, voices in found.voices.criteria.items():
        criteria.append(
            CriterionRatingsOut(
                criterion=criterion,
                value=found.voices.value_of(criterion) or 0.0,
                spread=found.voices.spread_of(criterion),
                departments=[
                    DepartmentVoiceOut(
                        department=voice.department,
                        name=names[voice.department],
                        customer_facing=voice.customer_facing,
                        weight=voice.weight,
                        mean=voice.mean,
                        count=voice.count,
                        spread=voice.spread,
                        raters=list(voice.raters),
                    )
                    for voice in voices
                ],
            )
        )
    ratings = [
        RatingOut(
            criterion=row.criterion,
            subject=row.subject,
            department=row.department,
            value=row.value,
            comment=row.comment,
            rated_at=row.rated_at,
        )
        for row in found.ratings
    ]
    return IdeaRatingsOut(ref=ref, criteria=criteria, ratings=ratings)
