"""The roadmap optimiser: pure, no web, database or HTTP imports.

`decode_scenario(bytes) -> Instance`, `solve(instance, config, *, on_progress) -> Solution`,
`validate(instance, plan) -> [Violation]`, `result_document(instance, solution) -> ResultDoc`.
"""

from services.roadmap.optimiser.alternatives import Alternative, Alternatives, alternatives, alternatives_document
from services.roadmap.optimiser.baseline import BaselineDiff, baseline_diff
from services.roadmap.optimiser.greedy import greedy_plan
from services.roadmap.optimiser.instance import Instance, Plan, plan_value
from services.roadmap.optimiser.progress import Progress
from services.roadmap.optimiser.result import ResultDoc, encode_result, result_document, summary
from services.roadmap.optimiser.scenario import ScenarioError, decode_scenario
from services.roadmap.optimiser.sensitivity import PhaseSensitivity, SensitivityConfig, budget_sensitivity
from services.roadmap.optimiser.solution import (
    FEASIBLE,
    INFEASIBLE,
    OPTIMAL,
    UNKNOWN,
    Conflict,
    LeftOut,
    Solution,
    SolveConfig,
)
from services.roadmap.optimiser.solve import InvalidPlanError, solve
from services.roadmap.optimiser.validate import Violation, validate

__all__ = [
    "Alternative",
    "Alternatives",
    "BaselineDiff",
    "FEASIBLE",
    "INFEASIBLE",
    "OPTIMAL",
    "UNKNOWN",
    "Conflict",
    "Instance",
    "InvalidPlanError",
    "LeftOut",
    "PhaseSensitivity",
    "Plan",
    "Progress",
    "ResultDoc",
    "ScenarioError",
    "SensitivityConfig",
    "Solution",
    "SolveConfig",
    "Violation",
    "alternatives",
    "alternatives_document",
    "baseline_diff",
    "budget_sensitivity",
    "decode_scenario",
    "encode_result",
    "greedy_plan",
    "plan_value",
    "result_document",
    "solve",
    "summary",
    "validate",
]
