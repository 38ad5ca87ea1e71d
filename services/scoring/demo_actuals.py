"""What the demo's delivered ideas really took, so `make run` shows a calibration report.

Northwind Bank delivered its discovery research and a first round of quick wins. As in most
programmes, some teams' estimates run short (web and mobile work took a third more than
planned), others are close (the CX researchers) or generous (operations); the KPIs agreed in
the workshops were reached for most, not all. Data only; `seed_demo_actuals` records it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final
from uuid import UUID

import asyncpg

from services.kit.auth import Caller
from services.scoring import actuals
from services.scoring.delivered import WithoutJira

# ref -> (actual cost, actual effort per team in person-days, hours Jira tracked)
DEMO_ACTUALS: Final[dict[str, tuple[float, dict[str, float], float | None]]] = {
    "CJ-02": (21_500, {"cx": 19, "ops": 5}, 190.0),
    "CJ-03": (27_000, {"data": 23, "cx": 10}, 262.5),
    "CJ-04": (16_000, {"cx": 15, "data": 6}, None),
    "CJ-06": (16_900, {"mobile": 11, "web": 8, "backend": 6}, 201.0),
    "CJ-08": (7_800, {"mobile": 8.5, "backend": 3.5}, 96.0),
    "CJ-10": (6_100, {"cx": 5, "web": 4}, 72.0),
    "CJ-12": (8_400, {"backend": 7.5, "cx": 4}, None),
    "CJ-15": (11_200, {"backend": 9.5, "ops": 3.5}, 104.0),
    "CJ-19": (10_400, {"web": 8, "backend": 5}, 104.0),
    "CJ-20": (6_600, {"web": 6.5, "cx": 3}, 76.0),
}

# ref -> [(KPI key, value, measured on, target, higher is better)]
DEMO_MEASUREMENTS: Final[dict[str, list[tuple[str, float, date, float, bool]]]] = {
    "CJ-06": [("card-activation-rate", 0.71, date(2026, 9, 30), 0.75, True),
              ("card-activation-rate", 0.78, date(2026, 11, 30), 0.75, True)],
    "CJ-08": [("fraud-calls-per-week", 310, date(2026, 10, 31), 250, False)],
    "CJ-10": [("email-click-rate", 0.052, date(2026, 10, 31), 0.04, True)],
    "CJ-15": [("branch-wait-minutes", 11, date(2026, 11, 15), 12, False)],
    "CJ-19": [("mortgage-calculator-completion", 0.58, date(2026, 11, 30), 0.6, True)],
    "CJ-20": [("newsletter-unsubscribes", 0.8, date(2026, 11, 30), 1.0, False)],
}  # fmt: skip


async def seed_demo_actuals(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID) -> None:
    """Record the delivered ideas' actuals and KPI measurements, once (a portfolio with any actuals is left alone).

    The demo portfolio has no Jira connection, so its ideas are delivered as teams without Jira
    record them: `deliveredVia: "manual"`."""
    seeded = await conn.fetchval(
        "SELECT true FROM scoring.idea_actuals a JOIN scoring.ideas i ON i.id = a.idea_id WHERE i.portfolio_id = $1 LIMIT 1",
        portfolio_id,
    )
    if seeded:
        return
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    untracked = WithoutJira()
    for ref, (cost, effort, hours) in DEMO_ACTUALS.items():
        await actuals.record_actuals(
            conn, caller, portfolio_id, ref, cost=cost, effort=effort, tracked_hours=hours, at=at, tracker=untracked
        )
    for ref, measured in DEMO_MEASUREMENTS.items():
        for key, value, on, target, higher in measured:
            await actuals.add_measurement(conn, caller, portfolio_id, ref, key, value=value, measured_on=on,
                                          target=target, higher_is_better=higher, at=at, tracker=untracked)  # fmt: skip
