"""The first statement of a hot read: may the caller read the portfolio, when do its estimates go
stale, and which model version does a ranking show.

A ranking page, a filtered ideas page and a run poll are most of the traffic. Each used to spend
a round trip to PostgreSQL on the membership check, one on the model version and one on the
review cadence before reading its page; now one statement answers all three (issue 14), with
the same 404 and 403 as `require_access`, and brings a ranking's stored totals and medians too.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access import service as access
from services.kit.access.rights import READ, PortfolioAccess
from services.kit.auth import Caller
from services.kit.problems import NotFound
from services.scoring import ranking_repository
from services.scoring.ranking_repository import RankingVersion
from services.scoring.review_rules import stale_cutoff
from services.scoring.score_figures import NO_FIGURES, ScoreFigures


class Started(msgspec.Struct, frozen=True):
    access: PortfolioAccess
    # Estimates made before this are stale now; None when the portfolio has no cadence row.
    cutoff: datetime | None
    version: RankingVersion | None = None
    # The version's stored totals and medians (score_figures.py).
    figures: ScoreFigures = NO_FIGURES
    # The portfolio's read generation: an answer encoded at it is still right (kit/read_cache.py).
    generation: int = 0


async def start_read(
    conn: asyncpg.Connection,
    caller: Caller,
    portfolio_id: UUID,
    *,
    now: datetime,
    model_id: UUID | None = None,
    version: int | None = None,
) -> Started:
    """The caller's read access, the staleness cutoff and, given `model_id`, the model version (the
    latest when `version` is None) with its stored figures: NotFound for a portfolio the caller is not a member of, then for
    a model or version that does not exist."""
    subject, groups = access.caller_params(caller)
    found = await ranking_repository.read_start(
        conn, portfolio_id, subject=subject, groups=groups, model_id=model_id, version=version
    )
    granted = access.grant(caller, portfolio_id, None if found is None else found.roles, READ)
    assert found is not None  # grant refuses a portfolio that does not exist
    if model_id is not None and found.version is None:
        raise model_not_found(model_id, version)
    days = found.review_every_days
    cutoff = None if days is None else stale_cutoff(now, days)
    return Started(granted, cutoff, found.version, found.figures, found.generation)


def model_not_found(model_id: UUID, version: int | None) -> NotFound:
    which = f"version {version} of " if version is not None else ""
    return NotFound(f"There is no {which}scoring model {model_id} in this portfolio.")
