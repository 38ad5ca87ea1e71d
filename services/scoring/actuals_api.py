"""HTTP controllers of delivery's lessons: actuals, KPI measurements, and the calibration report."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from services.kit.clock import Clock
from services.kit.db import Conn
from services.kit.params import caller_of
from services.kit.problems import FieldProblem, InvalidInput
from services.scoring import actuals
from services.scoring.actuals import ActualsRow, MeasurementRow
from services.scoring.calibration import Report
from services.scoring.delivered import DeliveredVia
from services.scoring.integrations_client import IntegrationsClient
from services.scoring.schemas import NonNegative, TeamKey

Now = NamedDependency[Clock]
Integrations = NamedDependency[IntegrationsClient]
_KPI_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
Finite = Annotated[float, Meta(ge=-1e15, le=1e15)]


class ActualsIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """What the delivered idea really took: money, effort per team (person-days), the hours Jira tracked."""

    cost: NonNegative | None = None
    effort: Annotated[dict[TeamKey, NonNegative], Meta(max_length=50)] = msgspec.field(default_factory=dict)
    tracked_hours: NonNegative | None = None


class ActualsOut(msgspec.Struct, rename="camel", kw_only=True):
    """The actuals, and how the idea's delivery was known when they were recorded: `jira` (every
    planned Jira issue of the idea done; `jiraIssues` names them) or `manual` (never tracked in Jira)."""

    cost: float | None
    effort: dict[str, float]
    tracked_hours: float | None
    recorded_at: datetime
    recorded_by: str
    delivered_via: DeliveredVia
    jira_issues: list[str]


class MeasurementIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """One measurement of a KPI; with a `target`, whether it reached it (higher or lower being better)."""

    value: Finite
    date: date
    target: Finite | None = None
    higher_is_better: bool = True


class MeasurementOut(msgspec.Struct, rename="camel", kw_only=True):
    kpi: str
    value: float
    date: date
    target: float | None
    higher_is_better: bool
    reached: bool | None
    recorded_at: datetime
    recorded_by: str
    delivered_via: DeliveredVia
    jira_issues: list[str]


def _key(key: str) -> str:
    if not _KPI_KEY.fullmatch(key):
        message = "a KPI key is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        raise InvalidInput(f"key: {message}", errors=[FieldProblem(field="key", message=message)])
    return key


class DeliveryLessonsController(Controller):
    path = "/portfolios/{portfolio_id:uuid}"
    tags = ["calibration"]

    @put("/ideas/{ref:str}/actuals", operation_id="setIdeaActuals")
    async def set_actuals(
        self, request: Request, conn: Conn, clock: Now, integrations: Integrations, portfolio_id: FromPath[UUID],
        ref: FromPath[str], data: JSONBody[ActualsIn],
    ) -> ActualsOut:  # fmt: skip
        """Record what a delivered idea really cost and took (replacing earlier actuals); they feed
        the calibration report. Needs the role programme_manager or delivery.

        An idea tracked in Jira must be delivered there (every planned issue in the status
        category `done`, by webhook or refresh): before that, 409 naming the issue and its
        category. An idea never pushed to Jira is taken as `deliveredVia: "manual"`. 503 when the
        integrations service cannot say; nothing is written then."""
        row = await actuals.record_actuals(
            conn, caller_of(request), portfolio_id, ref, cost=data.cost, effort=dict(data.effort),
            tracked_hours=data.tracked_hours, at=clock(), tracker=integrations.on_behalf_of(request.auth),
        )  # fmt: skip
        return actuals_out(row)

    @get("/ideas/{ref:str}/actuals", operation_id="getIdeaActuals")
    async def get_actuals(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], ref: FromPath[str]
    ) -> ActualsOut:
        """The idea's actuals (404 until some are recorded)."""
        return actuals_out(await actuals.read_actuals(conn, caller_of(request), portfolio_id, ref))

    @post("/ideas/{ref:str}/kpis/{key:str}/measurements", operation_id="addKpiMeasurement")
    async def add_measurement(
        self, request: Request, conn: Conn, clock: Now, integrations: Integrations, portfolio_id: FromPath[UUID],
        ref: FromPath[str], key: FromPath[str], data: JSONBody[MeasurementIn],
    ) -> MeasurementOut:  # fmt: skip
        """Record a measurement of one of the delivered idea's KPIs, by the KPI's key. Needs the
        role programme_manager or delivery. Delivered as for actuals: 409 while the idea's Jira
        issue is not done, 503 when the integrations service cannot say."""
        row = await actuals.add_measurement(
            conn, caller_of(request), portfolio_id, ref, _key(key), value=data.value, measured_on=data.date,
            target=data.target, higher_is_better=data.higher_is_better, at=clock(),
            tracker=integrations.on_behalf_of(request.auth),
        )  # fmt: skip
        return measurement_out(row)

    @get("/ideas/{ref:str}/kpis/{key:str}/measurements", operation_id="listKpiMeasurements")
    async def list_measurements(
        self, request: Request, conn: Conn, portfolio_id: FromPath[UUID], ref: FromPath[str], key: FromPath[str]
    ) -> list[MeasurementOut]:
        """The measurements of one KPI of an idea, oldest first."""
        rows = await actuals.measurements(conn, caller_of(request), portfolio_id, ref, key)
        return [measurement_out(row) for row in rows]

    @get("/calibration", operation_id="getCalibration")
    async def calibration(self, request: Request, conn: Conn, portfolio_id: FromPath[UUID]) -> Report:
        """How delivered ideas compare with their estimates: per team and per department, the
        median, spread and count of actual / estimated cost and effort, and the share of KPI
        targets reached. A scenario with `"calibration": "apply"` scales its estimates by it."""
        return await actuals.calibration_report(conn, caller_of(request), portfolio_id)


def actuals_out(row: ActualsRow) -> ActualsOut:
    return ActualsOut(cost=row.cost, effort=row.effort, tracked_hours=row.tracked_hours,
                      recorded_at=row.recorded_at, recorded_by=row.recorded_by,
                      delivered_via=row.delivered_via, jira_issues=row.jira_issues)  # fmt: skip


def measurement_out(row: MeasurementRow) -> MeasurementOut:
    return MeasurementOut(
        kpi=row.kpi_key, value=row.value, date=row.measured_on, target=row.target, higher_is_better=row.higher_is_better,
        reached=row.reached, recorded_at=row.recorded_at, recorded_by=row.recorded_by,
        delivered_via=row.delivered_via, jira_issues=row.jira_issues,
    )  # fmt: skip


ACTUALS_ROUTES = [DeliveryLessonsController]
