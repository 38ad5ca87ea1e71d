"""Reading an approved plan for a push, over HTTP from the roadmap and scoring services.

The caller's token is passed on, so each service checks the caller's role itself. In the
single process the same client calls the other apps in-process. What is read becomes a
`PlanSnapshot`, stored with the push, so the worker needs nothing but Jira.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import httpx
import msgspec

from services.integrations.planned import Contribution, Dependency, Kpi, Owner, PlannedIdea, PlannedPhase
from services.kit.problems import Conflict, Forbidden, NotFound, ServiceUnavailable

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
PHASE_LABELS = {
    "discovery": "Discovery",
    "improve": "Improve",
    "perfection": "Perfection",
    "personalization": "Personalization",
}


class PlanSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """An approved plan as a push needs it."""

    plan_id: str
    portfolio_id: str
    currency: str
    phases: list[PlannedPhase]
    ideas: list[PlannedIdea]
    dependencies: list[Dependency]


class PlanSource:
    """Typed reads of the roadmap and scoring services (each may live at its own address)."""

    def __init__(self, roadmap: httpx.AsyncClient, scoring: httpx.AsyncClient) -> None:
        self.clients = {"/roadmap/": roadmap, "/scoring/": scoring}

    @classmethod
    def over_http(cls, *, roadmap_url: str, scoring_url: str) -> PlanSource:
        return cls(
            httpx.AsyncClient(base_url=roadmap_url, timeout=TIMEOUT),
            httpx.AsyncClient(base_url=scoring_url, timeout=TIMEOUT),
        )

    @classmethod
    def in_process(cls, app: object) -> PlanSource:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        http = httpx.AsyncClient(transport=transport, base_url="http://services.internal", timeout=TIMEOUT)
        return cls(http, http)

    async def _get(self, path: str, token: str, params: dict[str, Any] | None = None) -> Any:
        http = next(client for prefix, client in self.clients.items() if path.startswith(prefix))
        try:
            response = await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        except httpx.TransportError:
            raise ServiceUnavailable("The roadmap or scoring service cannot be reached; nothing was written.") from None
        if response.status_code == 404:
            raise NotFound(response.json().get("detail", f"{path} was not found"))
        if response.status_code in (401, 403):
            raise Forbidden("The caller may not read the plan it asks to push.")
        if response.status_code >= 400:
            raise ServiceUnavailable(f"Reading {path} failed ({response.status_code}); nothing was written.")
        return msgspec.json.decode(response.content)

    async def plan_portfolio(self, plan_id: UUID, *, token: str) -> UUID:
        """The portfolio of a plan the caller may read (NotFound for any other)."""
        plan = await self._get(f"/roadmap/plans/{plan_id}", token)
        return UUID(plan["portfolioId"])

    async def approved_plan(self, plan_id: UUID, *, token: str) -> PlanSnapshot:
        """The plan, its scenario's ideas and dependencies, and its ideas' scores and context."""
        plan = await self._get(f"/roadmap/plans/{plan_id}", token)
        if plan["status"] != "approved":
            raise Conflict(f"Only an approved plan is pushed to Jira; this one is {plan['status']}.")
        scenario = await self._get(f"/roadmap/scenarios/{plan['scenarioId']}", token)
        document = await self._get(f"/roadmap/scenarios/{plan['scenarioId']}/document", token)
        source = scenario["source"]
        snapshot: dict[str, Any] = {"ideas": []}
        if source.get("kind") == "scores":
            snapshot = await self._get(
                f"/scoring/portfolios/{plan['portfolioId']}/models/{source['modelId']}/snapshot",
                token,
                {"version": source["modelVersion"]},
            )
        return build_snapshot(plan, document, snapshot, model=source.get("modelName"))


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _owner(raw: Any) -> Owner | None:
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    return Owner(
        subject=raw.get("subject", ""), name=raw["name"], email=raw.get("email"), department=raw.get("department")
    )


def _kpis(raw: Any) -> tuple[Kpi, ...]:
    return tuple(
        Kpi(
            key=k["key"],
            name=k.get("name") or k["key"],
            unit=k.get("unit") or "",
            direction=k.get("direction") or "increase",
            baseline=k.get("baseline"),
            target=k.get("target"),
        )  # fmt: skip
        for k in raw or ()
    )


def build_snapshot(
    plan: dict[str, Any], document: dict[str, Any], scores: dict[str, Any], *, model: str | None
) -> PlanSnapshot:
    """The push's view of a plan: planned ideas ranked by value, with context, owners, KPIs and
    their phase's end as due date, and dependencies. Owners and KPIs come from the plan's rows,
    frozen with its scenario, so the push shows what was decided on."""
    ideas = {idea["id"]: idea for idea in document["ideas"]}
    ends = {p["key"]: _date(p.get("end")) for p in plan["phases"]}
    scored = {idea["ref"]: idea for idea in scores.get("ideas", [])}
    chosen = sorted(plan["assignments"], key=lambda a: (-ideas[a["idea"]]["value"], a["idea"]))
    planned = []
    for rank, assignment in enumerate(chosen, start=1):
        idea, score = ideas[assignment["idea"]], scored.get(assignment["idea"], {})
        attributes = idea.get("attributes", {})
        planned.append(
            PlannedIdea(
                ref=idea["id"],
                title=idea.get("title") or idea["id"],
                phase=assignment["phase"],
                rank=rank,
                score=idea["value"],
                model=model,
                breakdown=tuple(
                    Contribution(criterion=c["criterion"], contribution=c["contribution"])
                    for c in score.get("breakdown", [])
                ),
                persona=attributes.get("persona"),
                journey_stage=attributes.get("journeyStage"),
                touchpoint=attributes.get("touchpoint"),
                pain_point=score.get("painPoint"),
                cost=idea["cost"],
                owner=_owner(assignment.get("owner")),
                kpis=_kpis(assignment.get("kpis")),
                due=ends.get(assignment["phase"]),
            )
        )
    dependencies = [
        Dependency(idea=c["idea"], on=c["on"]) for c in document.get("constraints", []) if c.get("kind") == "requires"
    ]
    phases = [
        PlannedPhase(
            key=p["key"],
            label=PHASE_LABELS.get(p["key"], p["key"]),
            budget=p["budget"],
            spend=p["spend"],
            start=_date(p.get("start")),
            end=_date(p.get("end")),
        )  # fmt: skip
        for p in plan["phases"]
    ]
    return PlanSnapshot(
        plan_id=str(plan["id"]),
        portfolio_id=str(plan["portfolioId"]),
        currency=scores.get("currency", ""),
        phases=phases,
        ideas=planned,
        dependencies=dependencies,
    )
