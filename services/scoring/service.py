"""Use cases of the scoring service: load, apply the domain rules, save, in the request's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access import service as access
from services.kit.access.rights import PLAN, READ, Right
from services.kit.auth import Caller
from services.kit.clock import Clock, system_clock
from services.kit.problems import Conflict, FieldProblem, InvalidInput, MalformedBody, NotFound
from services.scoring import (
    backlog_views,
    csv_codec,
    history,
    repository,
    score_figures,
    staleness,
    voices_service,
)
from services.scoring.backlog_views import FacetCount, IdeaFilter
from services.scoring.domain import DomainError, IdeaDraft
from services.scoring.mapping import draft_from_row, draft_to_row, to_camel_path
from services.scoring.ratings import Department
from services.scoring.read_start import Started
from services.scoring.repository import IdeaRow, PortfolioRow
from services.scoring.rescoring import rescore

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
    conn: asyncpg.Connection,
    caller: Caller,
    *,
    name: str,
    currency: str,
    phase_labels: dict[str, str],
    review_every_days: int | None = None,
    departments: Sequence[Department] = (),
) -> PortfolioRow:
    """A new portfolio, its creator its first programme manager."""
    portfolio_id = await access.create_tenant(conn, caller)
    row = await repository.insert_portfolio(conn, portfolio_id, name=name, currency=currency, phase_labels=phase_labels)
    if review_every_days is not None:
        await staleness.set_cadence(conn, portfolio_id, review_every_days)
    if departments:
        await voices_service.set_departments(conn, portfolio_id, departments)
    if review_every_days is not None or departments:
        row = await require_portfolio(conn, portfolio_id)
    return row


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
    conn: asyncpg.Connection,
    caller: Caller,
    portfolio_id: UUID,
    *,
    name: Any,
    currency: Any,
    phase_labels: Any,
    review_every_days: Any = msgspec.UNSET,
    departments: Any = msgspec.UNSET,
) -> PortfolioRow:
    """Change the given fields (msgspec.UNSET leaves a field as it is)."""
    current = await open_portfolio(conn, caller, portfolio_id, PLAN, for_update=True)
    if review_every_days is not msgspec.UNSET:
        await staleness.set_cadence(conn, portfolio_id, review_every_days)
    if departments is not msgspec.UNSET:
        await voices_service.set_departments(conn, portfolio_id, departments)
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
    conn: asyncpg.Connection,
    caller: Caller,
    portfolio_id: UUID,
    drafts: Sequence[IdeaDraft],
    *,
    clock: Clock = system_clock,
) -> list[IdeaRow]:
    """Create all of `drafts` or none of them, and score them under every model version."""
    # Locking the portfolio serialises writers, so the size limit and ref checks hold.
    portfolio = await open_portfolio(conn, caller, portfolio_id, PLAN, for_update=True)
    return await _create_ideas(conn, portfolio, drafts, by=caller.subject, at=clock())


async def _create_ideas(
    conn: asyncpg.Connection, portfolio: PortfolioRow, drafts: Sequence[IdeaDraft], *, by: str, at: datetime
) -> list[IdeaRow]:
    _reject_repeated_refs(drafts)
    taken = await repository.existing_refs(conn, portfolio.id, [draft.ref for draft in drafts])
    if taken:
        problems = [
            FieldProblem(
                field=_item_field(drafts, index, "ref"), message=f"an idea with ref {draft.ref!r} already exists"
            )
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
    await rescore(conn, portfolio.id, rows, new=True)
    return await history.record_created(conn, rows, drafts, by=by, at=at)


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


async def ideas_page_of(
    conn: asyncpg.Connection, started: Started, portfolio_id: UUID, filters: IdeaFilter, *, page: int, page_size: int
) -> tuple[list[IdeaRow], int]:
    """The page of the backlog, and how many ideas match, once `started` (read_start.py) let the
    caller read it: the request's second statement (hot_reads.ideas_body)."""
    filters = msgspec.structs.replace(filters, stale_cutoff=started.cutoff)
    return await backlog_views.list_ideas(
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


async def replace_idea(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, draft: IdeaDraft, *, clock: Clock = system_clock
) -> IdeaRow:
    """Overwrite an idea's fields and bring its scores up to date."""
    await access.require_access(conn, caller, portfolio_id, PLAN)
    return await _replace_idea(conn, portfolio_id, draft, by=caller.subject, at=clock())


async def _replace_idea(
    conn: asyncpg.Connection, portfolio_id: UUID, draft: IdeaDraft, *, by: str, at: datetime
) -> IdeaRow:
    (row,) = await _replace_ideas(conn, portfolio_id, [draft], by=by, at=at)
    return row


async def _replace_ideas(
    conn: asyncpg.Connection, portfolio_id: UUID, drafts: Sequence[IdeaDraft], *, by: str, at: datetime
) -> list[IdeaRow]:
    """Overwrite existing ideas and rescore them together: an import's updates refresh the
    ranking figures once, not once per idea."""
    replaced = []
    for draft in drafts:
        current = await _require_idea(conn, portfolio_id, draft.ref, for_update=True)
        row = await repository.update_idea(conn, portfolio_id, draft_to_row(draft))
        assert row is not None  # locked above, so it cannot have vanished
        replaced.append((current, draft, row))
    await rescore(conn, portfolio_id, [row for _, _, row in replaced])
    return [
        await history.record_updated(conn, draft_from_row(current), draft, row, by=by, at=at)
        for current, draft, row in replaced
    ]


async def patch_idea(
    conn: asyncpg.Connection,
    caller: Caller,
    portfolio_id: UUID,
    ref: str,
    changes: dict[str, Any],
    *,
    clock: Clock = system_clock,
) -> IdeaRow:
    """Apply the given top-level fields on top of the stored idea."""
    await access.require_access(conn, caller, portfolio_id, PLAN)
    current = await _require_idea(conn, portfolio_id, ref, for_update=True)
    merged = msgspec.structs.replace(draft_from_row(current), **changes)
    return await _replace_idea(conn, portfolio_id, validated(lambda: merged), by=caller.subject, at=clock())


async def delete_idea(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str) -> None:
    await access.require_access(conn, caller, portfolio_id, PLAN)
    if not await repository.delete_idea(conn, portfolio_id, ref):
        raise NotFound(f"There is no idea {ref!r} in this portfolio.")
    # Its scores went with it (ON DELETE CASCADE): the totals and medians change.
    await score_figures.refresh(conn, portfolio_id)


async def journey_map(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID) -> dict[str, list[FacetCount]]:
    """The personas, journey stages, touchpoints, channels, departments and tags in use, with counts."""
    await access.require_access(conn, caller, portfolio_id, READ)
    facets: dict[str, list[FacetCount]] = {name: [] for name in (*backlog_views.JOURNEY_FACETS, "tag")}
    for row in await backlog_views.journey_facets(conn, portfolio_id):
        facets[row.facet].append(row)
    return facets


def parse_csv(body: bytes) -> csv_codec.CsvFile:
    """The ideas of an uploaded spreadsheet, or one error naming every bad row and column."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody(
            f"The file is not UTF-8 text (byte {exc.start}).", errors=[FieldProblem(field="body", message="not UTF-8")]
        ) from None
    try:
        return csv_codec.read_csv(text)
    except csv_codec.CsvImportError as exc:
        problems = [_cell_problem(p.row, p.column, p.message) for p in exc.problems]
        raise InvalidInput(f"{len(problems)} problem(s) in the file; nothing was imported.", errors=problems) from None


def _cell_problem(row: int, column: str, message: str) -> FieldProblem:
    field = f"row {row}, column {column}" if column else f"row {row}"
    return FieldProblem(field=field, message=message, row=row, column=column or None)


class ImportCounts(msgspec.Struct, frozen=True):
    created: int
    updated: int
    unchanged: int


async def import_ideas(
    conn: asyncpg.Connection,
    caller: Caller,
    portfolio_id: UUID,
    file: csv_codec.CsvFile,
    *,
    update_existing: bool,
    clock: Clock = system_clock,
) -> ImportCounts:
    """Create the new ideas of an imported file and, if asked, update those whose ref exists.

    An update changes only the columns the file has, and a row that changes nothing is left
    alone (its `updatedAt` stays).
    """
    portfolio = await open_portfolio(conn, caller, portfolio_id, PLAN, for_update=True)
    at = clock()
    if not file.rows:
        raise InvalidInput(
            "The file has no ideas.", errors=[FieldProblem(field="row 2", message="no data rows", row=2)]
        )
    stored = {
        row.ref: row for row in await repository.ideas_by_refs(conn, portfolio_id, [r.idea.ref for r in file.rows])
    }
    if stored and not update_existing:
        raise Conflict(
            f"{len(stored)} ref(s) in the file already exist; import with mode=upsert to update them.",
            errors=[
                _cell_problem(r.number, "ref", f"{r.idea.ref!r} already exists")
                for r in file.rows
                if r.idea.ref in stored
            ],
        )
    changed, problems = [], []
    for row in file.rows:
        if row.idea.ref not in stored:
            continue
        current = draft_from_row(stored[row.idea.ref])
        try:
            merged = csv_codec.overlay(current, row.idea, file.columns)
        except DomainError as exc:
            problems.append(_cell_problem(row.number, csv_codec.column_of(exc.field), exc.message))
            continue
        if merged != current:
            changed.append(merged)
    if problems:
        raise InvalidInput(f"{len(problems)} problem(s) in the file; nothing was imported.", errors=problems)
    if changed:
        await _replace_ideas(conn, portfolio_id, changed, by=caller.subject, at=at)
    new = [row.idea for row in file.rows if row.idea.ref not in stored]
    if new:
        await _create_ideas(conn, portfolio, new, by=caller.subject, at=at)
    return ImportCounts(created=len(new), updated=len(changed), unchanged=len(stored) - len(changed))


def validated(build: Any) -> Any:
    """Run a domain constructor, turning a broken rule into a 422 that names the field."""
    try:
        return build()
    except DomainError as exc:
        field = to_camel_path(exc.field or "body")
        raise InvalidInput(f"{field}: {exc.message}", errors=[FieldProblem(field=field, message=exc.message)]) from None
