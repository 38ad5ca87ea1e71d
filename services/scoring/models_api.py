"""HTTP controllers of scoring models: their versions, rankings and score snapshots."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, MediaType, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from services.kit.db import Conn, read_connection
from services.kit.params import Page, PageSize, caller_of
from services.scoring import hot_reads, models_service, staleness
from services.scoring.api_params import ModelVersion, Now, clock_of, read_cache_of
from services.scoring.presenters import model_out, snapshot_out, version_out
from services.scoring.schemas import (
    ModelIn,
    ModelOut,
    ModelUpdate,
    ModelVersionOut,
    RankingOut,
    ScoreSnapshot,
)


class ModelController(Controller):
    path = "/portfolios/{portfolio_id:uuid}/models"
    tags = ["scoring models"]

    @post("", operation_id="createModel")
    async def create(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], data: JSONBody[ModelIn]
    ) -> ModelOut:
        """Create a scoring model (version 1) and score every idea under it."""
        row = await models_service.create_model(
            conn, caller_of(request), portfolio_id, name=data.name, definition=data.definition
        )
        return model_out(row)

    @get("", operation_id="listModels")
    async def list(self, request: Request, conn: Conn, portfolio_id: FromPath[UUID]) -> list[ModelOut]:
        """The portfolio's models, each with its latest version."""
        return [model_out(row) for row in await models_service.list_models(conn, caller_of(request), portfolio_id)]

    @get("/{model_id:uuid}", operation_id="getModel")
    async def read(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], model_id: FromPath[UUID]
    ) -> ModelOut:
        """A model with its latest version."""
        return model_out(await models_service.read_model(conn, caller_of(request), portfolio_id, model_id))

    @put("/{model_id:uuid}", operation_id="reviseModel")
    async def revise(
        self,
        request: Request,
        conn: Conn,
        portfolio_id: FromPath[UUID],
        model_id: FromPath[UUID],
        data: JSONBody[ModelUpdate],
    ) -> ModelOut:
        """Change a model: this makes a new version; earlier versions and their scores stay."""
        row = await models_service.revise_model(
            conn, caller_of(request), portfolio_id, model_id, definition=data.definition
        )
        return model_out(row)

    @delete("/{model_id:uuid}", operation_id="deleteModel")
    async def remove(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], model_id: FromPath[UUID]
    ) -> None:
        """Delete a model with all its versions and scores."""
        await models_service.delete_model(conn, caller_of(request), portfolio_id, model_id)

    @get("/{model_id:uuid}/versions", operation_id="listModelVersions")
    async def versions(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], model_id: FromPath[UUID]
    ) -> list[ModelVersionOut]:
        """Every version of a model, oldest first."""
        rows = await models_service.model_versions(conn, caller_of(request), portfolio_id, model_id)
        return [version_out(row) for row in rows]

    @get("/{model_id:uuid}/ranking", operation_id="getRanking")
    async def ranking(
        self,
        request: Request,
        portfolio_id: FromPath[UUID],
        model_id: FromPath[UUID],
        version: ModelVersion = None,
        page: Page = 1,
        page_size: PageSize = 50,
        cursor: Annotated[
            str | None, QueryParameter(max_length=400, description="nextCursor of the previous page")
        ] = None,
        sort: Annotated[
            Literal["score", "disagreement"],
            QueryParameter(description="`disagreement`: the ideas whose departments disagree most first"),
        ] = "score",
        quadrant: Annotated[
            Literal["quickWin", "majorProject", "fillIn", "moneyPit"] | None,
            QueryParameter(description="only the ideas of this quadrant"),
        ] = None,
    ) -> Response[RankingOut]:
        """The backlog ranked by score (highest first, ties by ref); unscored ideas last. Each idea
        has its quadrant, and `stale` flags estimates older than the portfolio's review cadence;
        `sort=disagreement` and `quadrant` page by number only."""
        async with read_connection(request) as conn:
            body = await hot_reads.ranking_body(
                conn, caller_of(request), portfolio_id, model_id, version=version, page=page,
                page_size=page_size, cursor=cursor, sort=sort, quadrant=quadrant,
                now=clock_of(request)(), cache=read_cache_of(request),
            )  # fmt: skip
        return Response(body, media_type=MediaType.JSON)

    @get("/{model_id:uuid}/snapshot", operation_id="getScoreSnapshot")
    async def snapshot(
        self,
        request: Request,
        conn: Conn,
        clock: Now,
        portfolio_id: FromPath[UUID],
        model_id: FromPath[UUID],
        version: ModelVersion = None,
    ) -> ScoreSnapshot:
        """Every idea's score under one model version with its cost, effort and phases, in ref order."""
        portfolio, row, ideas, limits = await models_service.score_snapshot(
            conn, caller_of(request), portfolio_id, model_id, version=version
        )
        stale = await staleness.stale_refs(conn, portfolio_id, [idea.ref for idea in ideas], clock())
        return snapshot_out(portfolio, row, ideas, limits, stale=stale)
