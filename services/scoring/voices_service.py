"""Use cases of stakeholder voices: a portfolio's departments and the ratings given for them."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access import service as access
from services.kit.access.rights import RATE, READ
from services.kit.auth import Caller
from services.kit.problems import FieldProblem, InvalidInput, NotFound
from services.scoring import ratings_repository, repository
from services.scoring.ratings import Department, Rating, Voices, voices_of
from services.scoring.ratings_repository import RatingRow
from services.scoring.repository import IdeaRow
from services.scoring.rescoring import rescore


async def set_departments(conn: asyncpg.Connection, portfolio_id: UUID, departments: Sequence[Department]) -> None:
    """Store the departments (the caller's right was checked) and rescore every rated idea:
    a department's weight, or its being listed at all, changes what its ratings count."""
    await ratings_repository.set_departments(conn, portfolio_id, [msgspec.to_builtins(d) for d in departments])
    rated = set(await ratings_repository.rated_ideas(conn, portfolio_id))
    if rated:
        ideas = [idea for idea in await repository.all_ideas(conn, portfolio_id) if idea.id in rated]
        await rescore(conn, portfolio_id, ideas)


async def _departments(conn: asyncpg.Connection, portfolio_id: UUID) -> list[Department]:
    return msgspec.convert(await ratings_repository.departments_of(conn, portfolio_id), list[Department])


async def _idea(conn: asyncpg.Connection, portfolio_id: UUID, ref: str, *, for_update: bool = False) -> IdeaRow:
    idea = await repository.get_idea(conn, portfolio_id, ref, for_update=for_update)
    if idea is None:
        raise NotFound(f"There is no idea {ref!r} in this portfolio.")
    return idea


async def rate(
    conn: asyncpg.Connection,
    caller: Caller,
    portfolio_id: UUID,
    ref: str,
    criterion: str,
    *,
    value: float,
    department: str,
    comment: str,
) -> bool:
    """Record the caller's rating of an idea on a criterion (replacing theirs), and rescore it.
    True when the rating is new."""
    await access.require_access(conn, caller, portfolio_id, RATE)
    idea = await _idea(conn, portfolio_id, ref, for_update=True)
    listed = [d.key for d in await _departments(conn, portfolio_id)]
    if department not in listed:
        known = ", ".join(listed) or "none yet: a programme manager lists them on the portfolio"
        message = f"unknown department {department!r}; the portfolio's departments are: {known}"
        raise InvalidInput(f"department: {message}", errors=[FieldProblem(field="department", message=message)])
    created = await ratings_repository.upsert_rating(
        conn,
        portfolio_id=portfolio_id,
        idea_id=idea.id,
        criterion=criterion,
        subject=caller.subject,
        department=department,
        value=value,
        comment=comment,
    )
    await rescore(conn, portfolio_id, [idea])
    return created


async def withdraw(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str, criterion: str) -> None:
    """Take back the caller's own rating of an idea on a criterion."""
    await access.require_access(conn, caller, portfolio_id, RATE)
    idea = await _idea(conn, portfolio_id, ref, for_update=True)
    if not await ratings_repository.delete_rating(conn, idea_id=idea.id, criterion=criterion, subject=caller.subject):
        raise NotFound(f"You have not rated {ref!r} on {criterion!r}.")
    await rescore(conn, portfolio_id, [idea])


class IdeaRatings(msgspec.Struct, frozen=True):
    """An idea's ratings: every one given, and the voices they make."""

    ratings: list[RatingRow]
    voices: Voices
    departments: list[Department]


async def ratings(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str) -> IdeaRatings:
    await access.require_access(conn, caller, portfolio_id, READ)
    idea = await _idea(conn, portfolio_id, ref)
    rows = await ratings_repository.ratings_of(conn, [idea.id])
    departments = await _departments(conn, portfolio_id)
    given = [Rating(criterion=r.criterion, subject=r.subject, department=r.department, value=r.value) for r in rows]
    return IdeaRatings(ratings=rows, voices=voices_of(given, departments), departments=departments)
