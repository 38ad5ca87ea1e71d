"""Use cases of scoring models: versions, their scores and what other services read of them.

Each change to a model is a new version scored at once; old versions and their scores stay.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access import service as access
from services.kit.access.rights import PLAN, READ
from services.kit.auth import Caller
from services.kit.problems import Conflict, FieldProblem, InvalidInput, NotFound, invalid_conversion
from services.scoring import formulas, repository, score_figures, score_repository
from services.scoring.domain import DomainError
from services.scoring.quadrants import Thresholds
from services.scoring.read_start import model_not_found
from services.scoring.repository import PortfolioRow
from services.scoring.rescoring import score_version
from services.scoring.score_repository import ModelVersionRow, ScoreRow, SnapshotRow
from services.scoring.service import open_portfolio, read_idea


def parse_model(definition: dict[str, Any]) -> Any:
    """Decode and check a model definition; a bad one is a 422 naming the place."""
    try:
        return msgspec.convert(definition, formulas.ScoringModel)
    except msgspec.ValidationError as exc:
        raise invalid_conversion(exc, under="definition") from None
    except DomainError as exc:
        field = f"definition.{exc.field}" if exc.field else "definition"
        raise InvalidInput(f"{field}: {exc.message}", errors=[FieldProblem(field=field, message=exc.message)]) from None


async def create_model(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, *, name: str, definition: dict[str, Any]
) -> ModelVersionRow:
    await access.require_access(conn, caller, portfolio_id, PLAN)
    model = parse_model(definition)
    try:
        async with conn.transaction():
            model_id = await score_repository.insert_model(conn, portfolio_id, name=name)
    except asyncpg.UniqueViolationError:
        raise Conflict(
            f"A scoring model named {name!r} already exists.",
            errors=[FieldProblem(field="name", message="already taken in this portfolio")],
        ) from None
    return await _add_version(conn, portfolio_id, model_id, model, caller.subject)


async def revise_model(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, model_id: UUID, *, definition: dict[str, Any]
) -> ModelVersionRow:
    """A change to a model is a new version; the old versions and their scores stay."""
    await access.require_access(conn, caller, portfolio_id, PLAN)
    await _require_model(conn, portfolio_id, model_id)
    return await _add_version(conn, portfolio_id, model_id, parse_model(definition), caller.subject)


async def _add_version(
    conn: asyncpg.Connection, portfolio_id: UUID, model_id: UUID, model: Any, author: str
) -> ModelVersionRow:
    stored = msgspec.to_builtins(model)
    version_id = await score_repository.insert_model_version(conn, model_id, definition=stored, created_by=author)
    ideas = await repository.all_ideas(conn, portfolio_id)
    await score_version(conn, portfolio_id, version_id, model, ideas)
    row = await score_repository.get_model_version(conn, portfolio_id, model_id)
    assert row is not None and row.id == version_id
    return row


async def read_model(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, model_id: UUID, *, version: int | None = None
) -> ModelVersionRow:
    """A model version (the latest by default) of a portfolio the caller may read."""
    await access.require_access(conn, caller, portfolio_id, READ)
    return await _require_model(conn, portfolio_id, model_id, version=version)


async def _require_model(
    conn: asyncpg.Connection, portfolio_id: UUID, model_id: UUID, *, version: int | None = None
) -> ModelVersionRow:
    row = await score_repository.get_model_version(conn, portfolio_id, model_id, version=version)
    if row is None:
        raise model_not_found(model_id, version)
    return row


async def idea_scores(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str
) -> list[tuple[ModelVersionRow, ScoreRow]]:
    idea = await read_idea(conn, caller, portfolio_id, ref)
    return await score_repository.scores_of_idea(conn, idea.id)


async def list_models(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID) -> list[ModelVersionRow]:
    await access.require_access(conn, caller, portfolio_id, READ)
    return await score_repository.list_latest_model_versions(conn, portfolio_id)


async def model_versions(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, model_id: UUID
) -> list[ModelVersionRow]:
    await read_model(conn, caller, portfolio_id, model_id)
    return await score_repository.list_model_versions(conn, portfolio_id, model_id)


async def delete_model(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, model_id: UUID) -> None:
    await access.require_access(conn, caller, portfolio_id, PLAN)
    if not await score_repository.delete_model(conn, portfolio_id, model_id):
        raise NotFound(f"There is no scoring model {model_id} in this portfolio.")


async def score_snapshot(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, model_id: UUID, *, version: int | None
) -> tuple[PortfolioRow, ModelVersionRow, list[SnapshotRow], Thresholds]:
    """The scores of every idea under one model version, for another service to keep, and the
    version's quadrant thresholds."""
    portfolio = await open_portfolio(conn, caller, portfolio_id, READ)
    row = await _require_model(conn, portfolio_id, model_id, version=version)
    limits = score_figures.thresholds(row.definition, await score_figures.read(conn, row.id))
    return portfolio, row, await score_repository.snapshot(conn, row.id), limits
