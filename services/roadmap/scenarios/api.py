"""HTTP controllers of scenarios and runs: parse, call one use case, return a schema."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED

from services.kit.access.rights import READ
from services.kit.db import Conn
from services.kit.params import Page, PageSize, caller_of
from services.roadmap.scenarios import runs_service, service
from services.roadmap.scenarios.presenters import run_out, scenario_out
from services.roadmap.scenarios.schemas import (
    Comparison,
    ReplanIn,
    RunIn,
    RunOut,
    RunPage,
    ScenarioClone,
    ScenarioImport,
    ScenarioIn,
    ScenarioOut,
    ScenarioPage,
    ScenarioPatch,
)
from services.roadmap.scoring_client import ScoringClient

Scoring = NamedDependency[ScoringClient]


def _token(request: Request) -> str:
    return request.auth


class ScenarioController(Controller):
    path = "/scenarios"
    tags = ["scenarios"]

    @post("", operation_id="createScenario")
    async def create(self, request: Request, conn: Conn, scoring: Scoring, data: JSONBody[ScenarioIn]) -> ScenarioOut:
        """Create a scenario on the frozen scores of a scoring model version."""
        row = await service.create_scenario(conn, scoring, data, caller=caller_of(request), token=_token(request))
        return scenario_out(row)

    @post("/import", operation_id="importScenario")
    async def import_document(self, request: Request, conn: Conn, data: JSONBody[ScenarioImport]) -> ScenarioOut:
        """Create a scenario from a scenario document (ideas and values as written)."""
        row = await service.import_scenario(
            conn, portfolio_id=data.portfolio_id, raw=data.document, caller=caller_of(request)
        )
        return scenario_out(row)

    @get("", operation_id="listScenarios")
    async def list(
        self,
        request: Request,
        conn: Conn,
        portfolio_id: Annotated[UUID | None, QueryParameter(name="portfolioId")] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> ScenarioPage:
        """Scenarios of the caller's portfolios, oldest first, optionally of one portfolio."""
        rows, total = await service.list_scenarios(
            conn, caller_of(request), portfolio_id=portfolio_id, page=page, page_size=page_size
        )
        return ScenarioPage(items=[scenario_out(row) for row in rows], total=total, page=page, page_size=page_size)

    @get("/{scenario_id:uuid}", operation_id="getScenario")
    async def read(self, request: Request, conn: Conn, scenario_id: FromPath[UUID]) -> ScenarioOut:
        """One scenario's settings, where its scores came from, and the ideas it could not plan."""
        return scenario_out(await service.require_scenario(conn, caller_of(request), scenario_id, READ))

    @patch("/{scenario_id:uuid}", operation_id="updateScenario")
    async def update(
        self, request: Request, conn: Conn, scenario_id: FromPath[UUID], data: JSONBody[ScenarioPatch]
    ) -> ScenarioOut:
        """Change budgets, capacities, constraints, objective or solver settings (409 once approved)."""
        return scenario_out(await service.update_scenario(conn, caller_of(request), scenario_id, data))

    @post("/{scenario_id:uuid}/clone", operation_id="cloneScenario")
    async def clone(
        self, request: Request, conn: Conn, scenario_id: FromPath[UUID], data: JSONBody[ScenarioClone]
    ) -> ScenarioOut:
        """A copy with a new name, to change freely."""
        return scenario_out(await service.clone_scenario(conn, scenario_id, name=data.name, caller=caller_of(request)))

    @delete("/{scenario_id:uuid}", operation_id="deleteScenario")
    async def remove(self, request: Request, conn: Conn, scenario_id: FromPath[UUID]) -> None:
        """Delete a scenario no plan was made from."""
        await service.delete_scenario(conn, caller_of(request), scenario_id)

    @get("/{scenario_id:uuid}/document", operation_id="exportScenario")
    async def export(self, request: Request, conn: Conn, scenario_id: FromPath[UUID]) -> dict[str, Any]:
        """The scenario document (DESIGN section 5): solve it offline with `roadmap solve`."""
        row = await service.require_scenario(conn, caller_of(request), scenario_id, READ)
        return row.document

    @post("/{scenario_id:uuid}/runs", operation_id="startRun", status_code=HTTP_202_ACCEPTED)
    async def start_run(
        self, request: Request, conn: Conn, scenario_id: FromPath[UUID], data: JSONBody[RunIn]
    ) -> Response[RunOut]:
        """Optimise the scenario as a job; answers 202 with the run's address to poll."""
        run = await runs_service.start_run(conn, scenario_id, data, caller=caller_of(request))
        return Response(run_out(run), status_code=HTTP_202_ACCEPTED, headers={"Location": f"/roadmap/runs/{run.id}"})

    @post("/{scenario_id:uuid}/frontier", operation_id="startFrontier", status_code=HTTP_202_ACCEPTED)
    async def start_frontier(
        self, request: Request, conn: Conn, scenario_id: FromPath[UUID], data: JSONBody[dict[str, Any]]
    ) -> Response[RunOut]:
        """Sweep the total budget (every phase scaled alike) as a job: `{fromFactor, toFactor, points}`."""
        run = await runs_service.start_frontier(conn, scenario_id, data, caller=caller_of(request))
        return Response(run_out(run), status_code=HTTP_202_ACCEPTED, headers={"Location": f"/roadmap/runs/{run.id}"})

    @get("/{scenario_id:uuid}/runs", operation_id="listRuns")
    async def runs(
        self, request: Request, conn: Conn, scenario_id: FromPath[UUID], page: Page = 1, page_size: PageSize = 50
    ) -> RunPage:
        """The scenario's runs, oldest first."""
        rows, total = await runs_service.list_runs(
            conn, caller_of(request), scenario_id, page=page, page_size=page_size
        )
        return RunPage(items=[run_out(row) for row in rows], total=total, page=page, page_size=page_size)


class RunController(Controller):
    path = "/runs"
    tags = ["runs"]

    @get("/compare", operation_id="compareRuns")
    async def compare(
        self,
        request: Request,
        conn: Conn,
        ids: Annotated[list[UUID], QueryParameter(min_items=2, max_items=10, description="two to ten run ids")],
    ) -> Comparison:
        """Runs side by side: ideas added, removed or moved against the first, spend per phase, objective."""
        columns, left_out, ideas = await runs_service.compare_runs(conn, caller_of(request), ids)
        return Comparison(runs=columns, not_compared=left_out, ideas=ideas)

    @get("/{run_id:uuid}", operation_id="getRun")
    async def read(self, request: Request, conn: Conn, run_id: FromPath[UUID]) -> RunOut:
        """A run's status and progress (poll this), and its summary once finished."""
        return run_out(await runs_service.require_run(conn, caller_of(request), run_id, READ))

    @get("/{run_id:uuid}/result", operation_id="getRunResult")
    async def result(self, request: Request, conn: Conn, run_id: FromPath[UUID]) -> dict[str, Any]:
        """The result document: assignments (each with its idea's title, owner, persona, journey stage,
        cost, value and KPIs), spend per phase, left-out reasons, bound and gap."""
        return await runs_service.run_result(conn, caller_of(request), run_id)

    @get("/{run_id:uuid}/frontier.svg", operation_id="getFrontierChart", media_type="image/svg+xml")
    async def frontier_chart(self, request: Request, conn: Conn, run_id: FromPath[UUID]) -> Response[str]:
        """The frontier of a finished sweep as a chart a browser opens (SVG)."""
        return Response(await runs_service.frontier_chart(conn, caller_of(request), run_id), media_type="image/svg+xml")

    @post("/{run_id:uuid}/sensitivity", operation_id="startSensitivity", status_code=HTTP_202_ACCEPTED)
    async def sensitivity(
        self, request: Request, conn: Conn, run_id: FromPath[UUID], data: JSONBody[dict[str, Any]]
    ) -> Response[RunOut]:
        """Budget sensitivity of a finished run's plan, as a job: per phase the budget range over
        which the plan stays best, the next step's gain per unit, and the LP relaxation's price."""
        run = await runs_service.start_explanation(conn, run_id, "sensitivity", data, caller=caller_of(request))
        return Response(run_out(run), status_code=HTTP_202_ACCEPTED, headers={"Location": f"/roadmap/runs/{run.id}"})

    @post("/{run_id:uuid}/alternatives", operation_id="startAlternatives", status_code=HTTP_202_ACCEPTED)
    async def alternatives(
        self, request: Request, conn: Conn, run_id: FromPath[UUID], data: JSONBody[dict[str, Any]]
    ) -> Response[RunOut]:
        """Up to `count` other plans, each differing by `minDifference` ideas and losing at most
        `maxLoss` of the value, as a job (`{count, minDifference, maxLoss, timeLimitSeconds}`)."""
        run = await runs_service.start_explanation(conn, run_id, "alternatives", data, caller=caller_of(request))
        return Response(run_out(run), status_code=HTTP_202_ACCEPTED, headers={"Location": f"/roadmap/runs/{run.id}"})

    @post("/{run_id:uuid}/cancel", operation_id="cancelRun", status_code=200)
    async def cancel(self, request: Request, conn: Conn, run_id: FromPath[UUID]) -> RunOut:
        """Stop a run; a running one keeps the best plan it had."""
        return run_out(await runs_service.cancel_run(conn, caller_of(request), run_id))


class ReplanController(Controller):
    path = "/plans"
    tags = ["plans"]

    @post("/{plan_id:uuid}/replan", operation_id="replanPlan")
    async def replan(
        self, request: Request, conn: Conn, plan_id: FromPath[UUID], data: JSONBody[ReplanIn]
    ) -> ScenarioOut:
        """A new scenario from an approved plan, which moving an approved idea costs `movePenalty`."""
        row = await service.replan(conn, plan_id, data, caller=caller_of(request))
        return scenario_out(row)


SCENARIO_ROUTES = [ScenarioController, RunController, ReplanController]
