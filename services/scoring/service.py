"""Use cases of the scoring service: load, apply the domain rules, save, in the request's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access import service as access
from services.kit.access.rights import PLAN, READ, Right
from services.kit.auth import Caller
from services.kit.problems import Conflict, FieldProblem, InvalidInput, MalformedBody, NotFound, invalid_conversion
from services.scoring import csv_codec, formulas, repository, score_repository
from services.scoring.domain import DomainError, IdeaDraft
from services.scoring.mapping import (
    draft_from_row,
    draft_to_row,
    estimates_of_row,
    score_to_columns,
    to_camel_path,
)
from services.scoring.repository import IdeaFilter, IdeaRow, PortfolioRow
from services.scoring.score_repository import ModelVersionRow, ScoreRow, SnapshotRow

MAX_IDEAS_PER_PORTFOLIO = 100_000


# --- portfolios -------------------------------------------------------------------------


async def require_portfolio(conn: asyncpg.Connection, portfolio_id: UUID, *, for_update: bool = False) -> PortfolioRow:
    portfolio = await repository.get_portfolio(conn, portfolio_id, for_update=for_update)
    if portfolio is None:
        raise NotFound(f"There is no portfolio {portfolio_id}.")
    return portfolio


async def open_portfolio(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, right: Right, *, for_update: bool = False
) -> PortfolioRow:
    """The portfolio, once the caller's membership is shown to allow `right` on it."""
    await access.require_access(conn, caller, portfolio_id, right)
    return await require_portfolio(conn, portfolio_id, for_update=for_update)


async def create_portfolio(
    conn: asyncpg.Connection, caller: Caller, *, name: str, currency: str, phase_labels: dict[str, str]
) -> PortfolioRow:
    """A new portfolio, its creator its first programme manager."""
    portfolio_id = await access.create_tenant(conn, caller)
    return await repository.insert_portfolio(
        conn, portfolio_id, name=name, currency=currency, phase_labels=phase_labels
    )


async def list_portfolios(
    conn: asyncpg.Connection, caller: Caller, *, page: int, page_size: int
) -> tuple[list[PortfolioRow], int]:
    """The portfolios the caller is a member of (all of them for an admin)."""
    return await repository.list_portfolios(
        conn, scope=access.scope_of(caller), limit=page_size, offset=(page - 1) * page_size
    )


async def delete_portfolio(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID) -> None:
    await access.delete_tenant(conn, caller, portfolio_id)


async def update_portfolio(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, *, name: Any, currency: Any, phase_labels: Any
) -> PortfolioRow:
    """Change the given fields (msgspec.UNSET leaves a field as it is)."""
    current = await open_portfolio(conn, caller, portfolio_id, PLAN, for_update=True)
    await repository.update_portfolio(
        conn,
        portfolio_id,
        name=current.name if name is msgspec.UNSET else name,
        currency=current.currency if currency is msgspec.UNSET else currency,
        phase_labels=current.phase_labels if phase_labels is msgspec.UNSET else phase_labels,
    )
    return await require_portfolio(conn, portfolio_id)


# --- ideas ------------------------------------------------------------------------------


async def create_ideas(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, drafts: Sequence[IdeaDraft]
) -> list[IdeaRow]:
    """Create all of `drafts` or none of them, and score them under every model version."""
    # Locking the portfolio serialises writers, so the size limit and ref checks hold.
    portfolio = await open_portfolio(conn, caller, portfolio_id, PLAN, for_update=True)
    return await _create_ideas(conn, portfolio, drafts)


async def _create_ideas(conn: asyncpg.Connection, portfolio: PortfolioRow, drafts: Sequence[IdeaDraft]) -> list[IdeaRow]:
    _reject_repeated_refs(drafts)
    taken = await repository.existing_refs(conn, portfolio.id, [draft.ref for draft in drafts])
    if taken:
        problems = [
            FieldProblem(field=_item_field(drafts, index, "ref"), message=f"an idea with ref {draft.ref!r} already exists")
            for index, draft in enumerate(drafts)
            if draft.ref in taken
        ]
        raise Conflict(f"{len(taken)} ref(s) already exist in this portfolio.", errors=problems)
    if portfolio.idea_count + len(drafts) > MAX_IDEAS_PER_PORTFOLIO:
        raise InvalidInput(
            f"A portfolio holds at most {MAX_IDEAS_PER_PORTFOLIO} ideas; it has {portfolio.idea_count}.",
            errors=[FieldProblem(field="ideas", message="too many ideas for this portfolio")],
        )
    rows = await repository.insert_ideas(conn, portfolio.id, [draft_to_row(draft) for draft in drafts])
    await rescore(conn, portfolio.id, rows)
    return rows


def _item_field(drafts: Sequence[IdeaDraft], index: int, name: str) -> str:
    return name if len(drafts) == 1 else f"ideas[{index}].{name}"


def _reject_repeated_refs(drafts: Sequence[IdeaDraft]) -> None:
    seen: dict[str, int] = {}
    problems = []
    for index, draft in enumerate(drafts):
        if draft.ref in seen:
            problems.append(
                FieldProblem(field=f"ideas[{index}].ref", message=f"repeats the ref of ideas[{seen[draft.ref]}]")
            )
        seen.setdefault(draft.ref, index)
    if problems:
        raise InvalidInput("Refs must be unique within a request.", errors=problems)


async def list_ideas(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, filters: IdeaFilter, *, page: int, page_size: int
) -> tuple[list[IdeaRow], int]:
    await access.require_access(conn, caller, portfolio_id, READ)
    return await repository.list_ideas(
        conn, portfolio_id, filters=filters, limit=page_size, offset=(page - 1) * page_size
    )


async def export_ideas(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID) -> str:
    """The whole backlog as CSV text, in ref order."""
    await access.require_access(conn, caller, portfolio_id, READ)
    rows = await repository.all_ideas(conn, portfolio_id)
    return csv_codec.ideas_to_csv(draft_from_row(row) for row in rows)


async def read_idea(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str) -> IdeaRow:
    await access.require_access(conn, caller, portfolio_id, READ)
    return await _require_idea(conn, portfolio_id, ref)


async def _require_idea(conn: asyncpg.Connection, portfolio_id: UUID, ref: str, *, for_update: bool = False) -> IdeaRow:
    idea = await repository.get_idea(conn, portfolio_id, ref, for_update=for_update)
    if idea is None:
        raise NotFound(f"There is no idea {ref!r} in this portfolio.")
    return idea


async def replace_idea(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, draft: IdeaDraft) -> IdeaRow:
    """Overwrite an idea's fields and bring its scores up to date."""
    await access.require_access(conn, caller, portfolio_id, PLAN)
    return await _replace_idea(conn, portfolio_id, draft)


async def _replace_idea(conn: asyncpg.Connection, portfolio_id: UUID, draft: IdeaDraft) -> IdeaRow:
    await _require_idea(conn, portfolio_id, draft.ref, for_update=True)
    row = await repository.update_idea(conn, portfolio_id, draft_to_row(draft))
    assert row is not None  # locked above, so it cannot have vanished
    await rescore(conn, portfolio_id, [row])
    return row


async def patch_idea(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str, changes: dict[str, Any]
) -> IdeaRow:
    """Apply the given top-level fields on top of the stored idea."""
    await access.require_access(conn, caller, portfolio_id, PLAN)
    current = await _require_idea(conn, portfolio_id, ref, for_update=True)
    merged = msgspec.structs.replace(draft_from_row(current), **changes)
    return await _replace_idea(conn, portfolio_id, validated(lambda: merged))


async def delete_idea(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str) -> None:
    await access.require_access(conn, caller, portfolio_id, PLAN)
    if not await repository.delete_idea(conn, portfolio_id, ref):
        raise NotFound(f"There is no idea {ref!r} in this portfolio.")


def parse_csv(body: bytes) -> list[IdeaDraft]:
    """The ideas of an uploaded spreadsheet, or one error naming every bad row and column."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody(
            f"The file is not UTF-8 text (byte {exc.start}).", errors=[FieldProblem(field="body", message="not UTF-8")]
        ) from None
    try:
        return csv_codec.csv_to_ideas(text)
    except csv_codec.CsvImportError as exc:
        problems = [
            FieldProblem(
                field=f"row {p.row}, column {p.column}" if p.column else f"row {p.row}",
                message=p.message,
                row=p.row,
                column=p.column or None,
            )
            for p in exc.problems
        ]
        raise InvalidInput(f"{len(problems)} problem(s) in the file; nothing was imported.", errors=problems) from None


async def import_ideas(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, drafts: Sequence[IdeaDraft], *, update_existing: bool
) -> tuple[int, int]:
    """Create the new ideas of an imported file and, if asked, update those whose ref exists."""
    portfolio = await open_portfolio(conn, caller, portfolio_id, PLAN, for_update=True)
    if not drafts:
        raise InvalidInput("The file has no ideas.", errors=[FieldProblem(field="row 2", message="no data rows", row=2)])
    existing = await repository.existing_refs(conn, portfolio_id, [draft.ref for draft in drafts])
    if existing and not update_existing:
        raise Conflict(
            f"{len(existing)} ref(s) in the file already exist; import with mode=upsert to update them.",
            errors=[FieldProblem(field="ref", message=f"{ref!r} already exists") for ref in sorted(existing)],
        )
    new = [draft for draft in drafts if draft.ref not in existing]
    for draft in drafts:
        if draft.ref in existing:
            await _replace_idea(conn, portfolio_id, draft)
    if new:
        await _create_ideas(conn, portfolio, new)
    return len(new), len(existing)


def validated(build: Any) -> Any:
    """Run a domain constructor, turning a broken rule into a 422 that names the field."""
    try:
        return build()
    except DomainError as exc:
        field = to_camel_path(exc.field or "body")
        raise InvalidInput(f"{field}: {exc.message}", errors=[FieldProblem(field=field, message=exc.message)]) from None


# --- scoring models and scores ----------------------------------------------------------


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
    await score_repository.upsert_scores(conn, version_id, _score_rows(model, ideas))
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
        which = f"version {version} of " if version is not None else ""
        raise NotFound(f"There is no {which}scoring model {model_id} in this portfolio.")
    return row


def _score_rows(model: Any, ideas: Sequence[IdeaRow]) -> list[tuple[Any, ...]]:
    return [
        (idea.id, idea.ref, *score_to_columns(formulas.score_idea(model, estimates_of_row(idea)))) for idea in ideas
    ]


async def rescore(conn: asyncpg.Connection, portfolio_id: UUID, ideas: Sequence[IdeaRow]) -> None:
    """Bring the stored scores of `ideas` up to date under every version of every model."""
    for version in await score_repository.all_model_versions(conn, portfolio_id):
        model = msgspec.convert(version.definition, formulas.ScoringModel)
        await score_repository.upsert_scores(conn, version.id, _score_rows(model, ideas))


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
) -> tuple[PortfolioRow, ModelVersionRow, list[SnapshotRow]]:
    """The scores of every idea under one model version, for another service to keep."""
    portfolio = await open_portfolio(conn, caller, portfolio_id, READ)
    row = await _require_model(conn, portfolio_id, model_id, version=version)
    return portfolio, row, await score_repository.snapshot(conn, row.id)
