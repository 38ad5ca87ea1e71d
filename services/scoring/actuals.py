"""What delivered ideas really took, and their KPI measurements; the calibration report from them.

Recorded by the people who deliver (the right `deliver`: programme managers and delivery), for
a delivered idea only: one Jira tracks must be done there first (delivered.py). KPI measurements
are keyed by the KPI's own key (any key: the KPIs an idea declares are not checked here), and
may carry the target they are measured against.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from services.kit.access import service as access
from services.kit.access.rights import DELIVER, READ
from services.kit.auth import Caller
from services.kit.problems import FieldProblem, InvalidInput, NotFound
from services.scoring.calibration import Outcome, Report, calibrate
from services.scoring.delivered import DeliveredVia, Tracker, confirm_delivered


class ActualsRow(msgspec.Struct, frozen=True):
    cost: float | None
    effort: dict[str, float]
    tracked_hours: float | None
    recorded_at: datetime
    recorded_by: str
    delivered_via: DeliveredVia
    jira_issues: list[str]


class MeasurementRow(msgspec.Struct, frozen=True):
    kpi_key: str
    value: float
    measured_on: date
    target: float | None
    higher_is_better: bool
    reached: bool | None
    recorded_at: datetime
    recorded_by: str
    delivered_via: DeliveredVia
    jira_issues: list[str]


_MEASUREMENT_COLUMNS = """
    kpi_key, value, measured_on, target, higher_is_better,
    CASE WHEN target IS NULL THEN NULL WHEN higher_is_better THEN value >= target ELSE value <= target END AS reached,
    recorded_at, recorded_by, delivered_via, jira_issues
"""
_ACTUALS_COLUMNS = "cost, effort, tracked_hours, recorded_at, recorded_by, delivered_via, jira_issues"


async def _idea_id(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str, right) -> UUID:  # type: ignore[no-untyped-def]
    await access.require_access(conn, caller, portfolio_id, right)
    idea_id = await conn.fetchval(
        "SELECT id FROM scoring.ideas WHERE portfolio_id = $1 AND ref = $2", portfolio_id, ref
    )
    if idea_id is None:
        raise NotFound(f"There is no idea {ref!r} in this portfolio.")
    return idea_id


async def record_actuals(
    conn: asyncpg.Connection,
    caller: Caller,
    portfolio_id: UUID,
    ref: str,
    *,
    cost: float | None,
    effort: dict[str, float],
    tracked_hours: float | None,
    at: datetime,
    tracker: Tracker,
) -> ActualsRow:
    """Set what the delivered idea really cost and took (replacing any earlier actuals)."""
    idea_id = await _idea_id(conn, caller, portfolio_id, ref, DELIVER)
    if cost is None and not effort and tracked_hours is None:
        message = "give at least one of cost, effort and trackedHours"
        raise InvalidInput(f"body: {message}", errors=[FieldProblem(field="body", message=message)])
    delivery = await confirm_delivered(tracker, portfolio_id, ref)
    record = await conn.fetchrow(
        f"""
        INSERT INTO scoring.idea_actuals
            (idea_id, cost, effort, tracked_hours, recorded_at, recorded_by, delivered_via, jira_issues)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (idea_id) DO UPDATE SET cost = EXCLUDED.cost, effort = EXCLUDED.effort,
            tracked_hours = EXCLUDED.tracked_hours, recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by,
            delivered_via = EXCLUDED.delivered_via, jira_issues = EXCLUDED.jira_issues
        RETURNING {_ACTUALS_COLUMNS}
        """,
        idea_id,
        cost,
        effort,
        tracked_hours,
        at,
        caller.subject,
        delivery.via,
        delivery.jira_issues,
    )
    return msgspec.convert(dict(record), ActualsRow)


async def read_actuals(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str) -> ActualsRow:
    idea_id = await _idea_id(conn, caller, portfolio_id, ref, READ)
    record = await conn.fetchrow(
        f"SELECT {_ACTUALS_COLUMNS} FROM scoring.idea_actuals WHERE idea_id = $1",
        idea_id,
    )
    if record is None:
        raise NotFound(f"The idea {ref!r} has no actuals yet.")
    return msgspec.convert(dict(record), ActualsRow)


async def add_measurement(
    conn: asyncpg.Connection,
    caller: Caller,
    portfolio_id: UUID,
    ref: str,
    key: str,
    *,
    value: float,
    measured_on: date,
    target: float | None,
    higher_is_better: bool,
    at: datetime,
    tracker: Tracker,
) -> MeasurementRow:
    """Record one measurement of one of the delivered idea's KPIs."""
    idea_id = await _idea_id(conn, caller, portfolio_id, ref, DELIVER)
    delivery = await confirm_delivered(tracker, portfolio_id, ref)
    record = await conn.fetchrow(
        f"""
        INSERT INTO scoring.kpi_measurements (idea_id, kpi_key, value, measured_on, target, higher_is_better,
                                              recorded_at, recorded_by, delivered_via, jira_issues)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {_MEASUREMENT_COLUMNS}
        """,
        idea_id,
        key,
        value,
        measured_on,
        target,
        higher_is_better,
        at,
        caller.subject,
        delivery.via,
        delivery.jira_issues,
    )
    return msgspec.convert(dict(record), MeasurementRow)


async def measurements(
    conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID, ref: str, key: str
) -> list[MeasurementRow]:
    """The measurements of one KPI of an idea, oldest first."""
    idea_id = await _idea_id(conn, caller, portfolio_id, ref, READ)
    records = await conn.fetch(
        f"SELECT {_MEASUREMENT_COLUMNS} FROM scoring.kpi_measurements WHERE idea_id = $1 AND kpi_key = $2 ORDER BY measured_on, id",
        idea_id,
        key,
    )
    return [msgspec.convert(dict(record), MeasurementRow) for record in records]


async def calibration_report(conn: asyncpg.Connection, caller: Caller, portfolio_id: UUID) -> Report:
    """How delivered ideas compare with their estimates, per team and department (calibration.py)."""
    await access.require_access(conn, caller, portfolio_id, READ)
    records = await conn.fetch(
        """
        SELECT i.ref, i.department, i.cost AS estimated_cost, i.effort AS estimated_effort,
               a.cost AS actual_cost, a.effort AS actual_effort,
               coalesce((
                   SELECT array_agg(CASE WHEN m.higher_is_better THEN m.value >= m.target ELSE m.value <= m.target END)
                   FROM (SELECT DISTINCT ON (kpi_key) value, target, higher_is_better FROM scoring.kpi_measurements
                         WHERE idea_id = i.id AND target IS NOT NULL ORDER BY kpi_key, measured_on DESC, id DESC) m
               ), '{}') AS kpis_reached,
               coalesce(a.delivered_via, (
                   SELECT k.delivered_via FROM scoring.kpi_measurements k WHERE k.idea_id = i.id
                   ORDER BY k.recorded_at DESC, k.id DESC LIMIT 1
               )) AS delivered_via
        FROM scoring.ideas i LEFT JOIN scoring.idea_actuals a ON a.idea_id = i.id
        WHERE i.portfolio_id = $1
          AND (a.idea_id IS NOT NULL OR EXISTS (SELECT 1 FROM scoring.kpi_measurements k WHERE k.idea_id = i.id))
        ORDER BY i.ref COLLATE "C"
        """,
        portfolio_id,
    )
    outcomes = [
        msgspec.convert({**dict(record), "actual_effort": record["actual_effort"] or {}}, Outcome) for record in records
    ]
    return calibrate(outcomes)
