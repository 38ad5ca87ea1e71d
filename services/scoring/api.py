"""HTTP controllers of the scoring service: parse, call one use case, return a schema."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Request, Response, delete, get, patch, post, put
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, RawBody

from services.kit.access.rights import READ
from services.kit.db import Conn, read_connection
from services.kit.params import Page, PageSize, caller_of
from services.kit.problems import FieldProblem, InvalidInput
from services.scoring import hot_reads, models_service, service, staleness
from services.scoring.api_params import Now, clock_of, read_cache_of
from services.scoring.backlog_views import FacetCount, IdeaFilter
from services.scoring.domain import PHASES
from services.scoring.living_api import LIVING_ROUTES
from services.scoring.mapping import departments_from_input, draft_from_input, idea_out, patch_changes, stale_idea_out
from services.scoring.members_api import MemberController
from services.scoring.models_api import ModelController
from services.scoring.presenters import portfolio_out, score_out
from services.scoring.ratings_api import RatingController
from services.scoring.schemas import (
    FacetValue,
    IdeaFields,
    IdeaIn,
    IdeaOut,
    IdeaPage,
    IdeaPatch,
    IdeasBulkIn,
    IdeaScoreOut,
    IdeasCreated,
    ImportResult,
    JourneyMap,
    PhaseLabels,
    PortfolioIn,
    PortfolioOut,
    PortfolioPage,
    PortfolioPatch,
)
from services.scoring.staleness import JourneyReviewRow


@dataclass
class CsvImportOperation(Operation):
    """The CSV import reads the raw body, which Litestar cannot describe from the signature."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="The ideas as CSV in UTF-8, one row per idea, with the header row of `GET .../ideas.csv`.",
            content={"text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
        )


class PortfolioController(Controller):
    path = "/portfolios"
    tags = ["portfolios"]

    @post("", operation_id="createPortfolio")
    async def create(self, request: Request, conn: Conn, data: JSONBody[PortfolioIn]) -> PortfolioOut:
        """Create a portfolio: a programme with a currency and its four phases. Needs a token with
        the role programme_manager (or admin); its caller becomes the portfolio's first programme manager."""
        departments = service.validated(lambda: departments_from_input(data.departments))
        row = await service.create_portfolio(
            conn,
            caller_of(request),
            name=data.name,
            currency=data.currency,
            phase_labels=_labels(data.phase_labels),
            review_every_days=data.review_every_days,
            departments=departments,
        )
        return portfolio_out(row)

    @get("", operation_id="listPortfolios")
    async def list(self, request: Request, conn: Conn, page: Page = 1, page_size: PageSize = 50) -> PortfolioPage:
        """List the portfolios the caller is a member of (an admin: all), oldest first."""
        rows, total = await service.list_portfolios(conn, caller_of(request), page=page, page_size=page_size)
        return PortfolioPage(items=[portfolio_out(row) for row in rows], total=total, page=page, page_size=page_size)

    @get("/{portfolio_id:uuid}", operation_id="getPortfolio")
    async def read(self, request: Request, conn: Conn, portfolio_id: FromPath[UUID]) -> PortfolioOut:
        """One portfolio with its phases and idea count."""
        return portfolio_out(await service.open_portfolio(conn, caller_of(request), portfolio_id, READ))

    @patch("/{portfolio_id:uuid}", operation_id="updatePortfolio")
    async def update(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], data: JSONBody[PortfolioPatch]
    ) -> PortfolioOut:
        """Rename a portfolio, change its currency, its phase labels or its departments (the list
        given replaces the list; ratings of a department no longer listed count nowhere)."""
        labels = msgspec.UNSET if data.phase_labels is msgspec.UNSET else _labels(data.phase_labels)
        departments = msgspec.UNSET
        if data.departments is not msgspec.UNSET:
            given = data.departments
            departments = service.validated(lambda: departments_from_input(given))
        row = await service.update_portfolio(
            conn,
            caller_of(request),
            portfolio_id,
            name=data.name,
            currency=data.currency,
            phase_labels=labels,
            review_every_days=data.review_every_days,
            departments=departments,
        )
        return portfolio_out(row)

    @delete("/{portfolio_id:uuid}", operation_id="deletePortfolio")
    async def remove(self, request: Request, conn: Conn, portfolio_id: FromPath[UUID]) -> None:
        """Delete a portfolio with everything under it in every service (ideas, models, scores,
        scenarios, runs, draft plans, Jira connections); 409 while it has submitted or approved plans."""
        await service.delete_portfolio(conn, caller_of(request), portfolio_id)

    @get("/{portfolio_id:uuid}/journey", operation_id="getJourneyMap")
    async def journey(self, request: Request, conn: Conn, clock: Now, portfolio_id: FromPath[UUID]) -> JourneyMap:
        """The personas, journey stages, touchpoints, channels, departments and tags the backlog
        uses, each with its number of ideas: the values the ideas list filters on. Personas,
        journey stages and touchpoints say when they were last reviewed and whether a review is due."""
        facets = await service.journey_map(conn, caller_of(request), portfolio_id)
        reviews = await staleness.journey_reviews(conn, portfolio_id)
        cutoff = await staleness.cutoff_for(conn, portfolio_id, clock())

        def values(facet: str) -> list[FacetValue]:
            if facet not in staleness.REVIEWED_FACETS:
                return [FacetValue(value=row.value, ideas=row.ideas) for row in facets[facet]]
            return [journey_value(row, reviews.get((facet, row.value)), cutoff) for row in facets[facet]]

        return JourneyMap(
            personas=values("persona"),
            journey_stages=values("journey_stage"),
            touchpoints=values("touchpoint"),
            channels=values("channel"),
            departments=values("department"),
            tags=values("tag"),
        )


def journey_value(row: FacetCount, review: JourneyReviewRow | None, cutoff: datetime | None) -> FacetValue:
    """A reviewed facet's value: when last reviewed, and whether a review is due (never reviewed, or too long ago)."""
    due = review is None or (cutoff is not None and review.reviewed_at < cutoff)
    return FacetValue(
        value=row.value, ideas=row.ideas, reviewed_at=review.reviewed_at if review else None,
        reviewed_by=review.reviewed_by if review else None, review_due=due,
    )  # fmt: skip


def _labels(labels: PhaseLabels) -> dict[str, str]:
    return {key: getattr(labels, key) for key in PHASES}


class IdeaController(Controller):
    path = "/portfolios/{portfolio_id:uuid}"
    tags = ["ideas"]

    @post("/ideas", operation_id="createIdea")
    async def create(
        self, request: Request, conn: Conn, clock: Now, portfolio_id: FromPath[UUID], data: JSONBody[IdeaIn]
    ) -> IdeaOut:
        """Add one idea to the backlog; it is scored under every model at once."""
        draft = service.validated(lambda: draft_from_input(data.ref, data))
        [row] = await service.create_ideas(conn, caller_of(request), portfolio_id, [draft], clock=clock)
        return idea_out(row)

    @post("/ideas/bulk", operation_id="createIdeas")
    async def create_many(
        self, request: Request, conn: Conn, clock: Now, portfolio_id: FromPath[UUID], data: JSONBody[IdeasBulkIn]
    ) -> IdeasCreated:
        """Add up to 1,000 ideas at once: all of them, or none if any is bad."""
        drafts = []
        problems: list[FieldProblem] = []
        for index, item in enumerate(data.ideas):
            try:
                drafts.append(service.validated(lambda item=item: draft_from_input(item.ref, item)))
            except InvalidInput as exc:
                problems += [FieldProblem(field=f"ideas[{index}].{p.field}", message=p.message) for p in exc.errors]
        if problems:
            raise InvalidInput(f"{len(problems)} idea(s) are not valid; nothing was created.", errors=problems)
        rows = await service.create_ideas(conn, caller_of(request), portfolio_id, drafts, clock=clock)
        return IdeasCreated(created=len(rows), refs=[row.ref for row in rows])

    @get("/ideas", operation_id="listIdeas")
    async def list(
        self,
        request: Request,
        portfolio_id: FromPath[UUID],
        page: Page = 1,
        page_size: PageSize = 50,
        persona: FromQuery[str | None] = None,
        journey_stage: Annotated[str | None, QueryParameter(name="journeyStage")] = None,
        touchpoint: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        department: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        phase: FromQuery[Literal["discovery", "improve", "perfection", "personalization"] | None] = None,
        q: Annotated[str | None, QueryParameter(description="text in the title or description")] = None,
        stale: Annotated[bool | None, QueryParameter(description="only ideas whose estimates are (not) stale")] = None,
        owner: Annotated[str | None, QueryParameter(description="the owner's subject, e-mail or name")] = None,
        without_owner: Annotated[
            bool, QueryParameter(name="withoutOwner", description="only ideas nobody owns")
        ] = False,
    ) -> Response[IdeaPage]:
        """List the backlog in ref order, filtered by journey context, tag, phase, text, owner or
        stale estimates. `department` matches the idea's owning department or its owner's department."""
        filters = IdeaFilter(
            stale=stale,
            persona=persona,
            journey_stage=journey_stage,
            touchpoint=touchpoint,
            channel=channel,
            department=department,
            tag=tag,
            phase=phase,
            text=q,
            owner=owner,
            without_owner=without_owner,
        )
        async with read_connection(request) as conn:
            body = await hot_reads.ideas_body(
                conn, caller_of(request), portfolio_id, filters, page=page, page_size=page_size,
                now=clock_of(request)(), cache=read_cache_of(request),
            )  # fmt: skip
        return Response(body, media_type=MediaType.JSON)

    @get("/ideas/{ref:str}", operation_id="getIdea")
    async def read(
        self, request: Request, conn: Conn, clock: Now, portfolio_id: FromPath[UUID], ref: FromPath[str]
    ) -> IdeaOut:
        """One idea."""
        row = await service.read_idea(conn, caller_of(request), portfolio_id, ref)
        return stale_idea_out(row, await staleness.cutoff_for(conn, portfolio_id, clock()))

    @put("/ideas/{ref:str}", operation_id="replaceIdea")
    async def replace(
        self, request: Request, conn: Conn, clock: Now, portfolio_id: FromPath[UUID], ref: FromPath[str],
        data: JSONBody[IdeaFields],
    ) -> IdeaOut:  # fmt: skip
        """Replace every field of an idea (its ref stays)."""
        draft = service.validated(lambda: draft_from_input(ref, data))
        return idea_out(await service.replace_idea(conn, caller_of(request), portfolio_id, draft, clock=clock))

    @patch("/ideas/{ref:str}", operation_id="updateIdea")
    async def update(
        self, request: Request, conn: Conn, clock: Now, portfolio_id: FromPath[UUID], ref: FromPath[str],
        data: JSONBody[IdeaPatch],
    ) -> IdeaOut:  # fmt: skip
        """Change some fields of an idea; the others keep their values. A change to an estimate
        makes a new estimate (its date and author); every change is in the idea's history."""
        changes = service.validated(lambda: patch_changes(data))
        return idea_out(await service.patch_idea(conn, caller_of(request), portfolio_id, ref, changes, clock=clock))

    @delete("/ideas/{ref:str}", operation_id="deleteIdea")
    async def remove(self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], ref: FromPath[str]) -> None:
        """Delete an idea and its scores."""
        await service.delete_idea(conn, caller_of(request), portfolio_id, ref)

    @get("/ideas/{ref:str}/scores", operation_id="getIdeaScores")
    async def scores(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], ref: FromPath[str]
    ) -> list[IdeaScoreOut]:
        """The idea's score under every version of every model, with breakdowns."""
        scores = await models_service.idea_scores(conn, caller_of(request), portfolio_id, ref)
        return [score_out(version, score) for version, score in scores]

    @get("/ideas.csv", operation_id="exportIdeas", media_type="text/csv")
    async def export_csv(self, request: Request, conn: Conn, portfolio_id: FromPath[UUID]) -> Response[str]:
        """The whole backlog as a CSV spreadsheet (the import format)."""
        text = await service.export_ideas(conn, caller_of(request), portfolio_id)
        return Response(
            text,
            media_type="text/csv",  # Litestar adds "; charset=utf-8" to text types itself
            headers={"Content-Disposition": f'attachment; filename="ideas-{portfolio_id}.csv"'},
        )

    @post("/ideas.csv", operation_id="importIdeas", status_code=200, operation_class=CsvImportOperation)
    async def import_csv(
        self,
        request: Request,
        conn: Conn,
        clock: Now,
        portfolio_id: FromPath[UUID],
        body: RawBody,
        mode: FromQuery[Literal["create", "upsert"]] = "create",
    ) -> ImportResult:
        """Import a spreadsheet: every row or none; errors name each bad row and column. With
        mode=upsert an existing idea changes only in the columns the file has."""
        file = service.parse_csv(body)
        counts = await service.import_ideas(
            conn, caller_of(request), portfolio_id, file, update_existing=mode == "upsert", clock=clock
        )
        return ImportResult(created=counts.created, updated=counts.updated, unchanged=counts.unchanged)


ROUTES = [PortfolioController, IdeaController, ModelController, MemberController, RatingController, *LIVING_ROUTES]
