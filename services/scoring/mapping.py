"""Conversions between the wire (schemas), the domain (IdeaDraft) and the database (rows)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec

from services.scoring import formulas
from services.scoring.accountability import Kpi, Owner, make_kpis
from services.scoring.domain import PHASES, DomainError, Estimates, IdeaDraft, JourneyContext, ordered_phases
from services.scoring.ratings import Department, check_departments
from services.scoring.repository import IdeaRow
from services.scoring.schemas import DepartmentIn, EstimatesIn, IdeaFields, IdeaOut, JourneyIn, KpiIn, OwnerIn


def to_camel_path(path: str) -> str:
    """`estimates.customer_impact` -> `estimates.customerImpact`, as the API spells it."""
    return re.sub(r"_([a-z])", lambda match: match.group(1).upper(), path)


def _phases(phases: list[str] | None) -> tuple[str, ...]:
    if phases is None:
        return PHASES
    if len(set(phases)) != len(phases):
        raise DomainError("phases must not repeat", field="phases")
    return ordered_phases(phases)


def draft_from_input(ref: str, body: IdeaFields) -> IdeaDraft:
    """The domain idea from an API body. Raises DomainError when a rule is broken."""
    return IdeaDraft(
        ref=ref,
        title=body.title,
        description=body.description,
        journey=JourneyContext(**msgspec.structs.asdict(body.journey)),
        estimates=Estimates(**msgspec.structs.asdict(body.estimates)),
        phases=_phases(body.phases),
        tags=tuple(body.tags),
        owner=owner_of(body.owner),
        kpis=kpis_of(body.kpis),
    )


def owner_of(body: OwnerIn | None) -> Owner | None:
    return None if body is None else Owner(**msgspec.structs.asdict(body))


def kpis_of(body: list[KpiIn]) -> tuple[Kpi, ...]:
    return make_kpis([msgspec.structs.asdict(item) for item in body])


def departments_from_input(body: list[DepartmentIn]) -> tuple[Department, ...]:
    """The portfolio's departments from an API body; DomainError naming `departments[i].field`."""
    departments = []
    for index, item in enumerate(body):
        try:
            departments.append(Department(**msgspec.structs.asdict(item)))
        except DomainError as exc:
            raise DomainError(exc.message, field=f"departments[{index}].{exc.field}") from None
    check_departments(departments)
    return tuple(departments)


def patch_changes(body: Any) -> dict[str, Any]:
    """The domain fields a PATCH body sets; unset ones are absent."""
    changes: dict[str, Any] = {}
    for name, value in msgspec.structs.asdict(body).items():
        if value is msgspec.UNSET:
            continue
        if name == "journey":
            value = JourneyContext(**msgspec.structs.asdict(value))
        elif name == "estimates":
            value = Estimates(**msgspec.structs.asdict(value))
        elif name == "phases":
            value = _phases(value)
        elif name == "tags":
            value = tuple(value)
        elif name == "owner":
            value = owner_of(value)
        elif name == "kpis":
            value = kpis_of(value)
        changes[name] = value
    return changes


def draft_to_row(draft: IdeaDraft) -> tuple[Any, ...]:
    """The idea's columns in `repository.IDEA_WRITE_COLUMNS` order."""
    journey, estimates = draft.journey, draft.estimates
    return (
        draft.ref,
        draft.title,
        draft.description,
        journey.persona,
        journey.journey_stage,
        journey.touchpoint,
        journey.channel,
        journey.pain_point,
        journey.department,
        list(draft.tags),
        estimates.customer_impact,
        estimates.reach,
        estimates.confidence,
        dict(estimates.effort),
        estimates.cost,
        estimates.annual_benefit,
        estimates.time_criticality,
        estimates.risk_reduction,
        list(draft.phases),
        None if draft.owner is None else msgspec.to_builtins(draft.owner),
        [msgspec.to_builtins(kpi) for kpi in draft.kpis],
    )


def estimates_of_row(row: IdeaRow) -> Estimates:
    return Estimates(
        customer_impact=row.customer_impact,
        reach=row.reach,
        confidence=row.confidence,
        effort=row.effort,
        cost=row.cost,
        annual_benefit=row.annual_benefit,
        time_criticality=row.time_criticality,
        risk_reduction=row.risk_reduction,
    )


def journey_of_row(row: IdeaRow) -> JourneyContext:
    return JourneyContext(
        persona=row.persona,
        journey_stage=row.journey_stage,
        touchpoint=row.touchpoint,
        channel=row.channel,
        pain_point=row.pain_point,
        department=row.department,
    )


def draft_from_row(row: IdeaRow) -> IdeaDraft:
    return IdeaDraft(
        ref=row.ref,
        title=row.title,
        description=row.description,
        journey=journey_of_row(row),
        estimates=estimates_of_row(row),
        phases=tuple(row.phases),
        tags=tuple(row.tags),
        owner=None if row.owner is None else msgspec.convert(row.owner, Owner),
        kpis=tuple(msgspec.convert(row.kpis, list[Kpi])),
    )


def idea_out(row: IdeaRow, *, stale: bool = False) -> IdeaOut:
    # Built field by field, with no intermediate domain structs or dicts: a page of ideas
    # does this fifty times (issue 14).
    return IdeaOut(
        id=row.id,
        ref=row.ref,
        title=row.title,
        description=row.description,
        journey=JourneyIn(
            persona=row.persona,
            journey_stage=row.journey_stage,
            touchpoint=row.touchpoint,
            channel=row.channel,
            pain_point=row.pain_point,
            department=row.department,
        ),
        estimates=EstimatesIn(
            customer_impact=row.customer_impact,
            reach=row.reach,
            confidence=row.confidence,
            effort=row.effort,
            cost=row.cost,
            annual_benefit=row.annual_benefit,
            time_criticality=row.time_criticality,
            risk_reduction=row.risk_reduction,
        ),
        phases=row.phases,
        tags=row.tags,
        owner=None if row.owner is None else msgspec.convert(row.owner, OwnerIn),
        kpis=msgspec.convert(row.kpis, list[KpiIn]) if row.kpis else [],
        created_at=row.created_at,
        updated_at=row.updated_at,
        estimated_at=row.estimated_at,
        estimated_by=row.estimated_by,
        stale=stale,
        stale_since=row.stale_since,
    )


def stale_idea_out(row: IdeaRow, cutoff: datetime | None) -> IdeaOut:
    """The idea, flagged stale if its estimates were made before the cutoff."""
    return idea_out(row, stale=cutoff is not None and row.estimated_at is not None and row.estimated_at < cutoff)


def score_to_columns(result: Any) -> tuple[float | None, list[dict[str, Any]], list[str], str | None, str | None]:
    """(score, breakdown, missing, reason, insufficient input) as stored, from a Scored or Unscored result."""
    if isinstance(result, formulas.Scored):
        breakdown = [msgspec.to_builtins(item) for item in result.breakdown]
        return result.value, breakdown, [], None, result.insufficient
    return None, [], list(result.missing), result.reason, None
