"""Next Release Problem instances as one-phase scenario documents (DESIGN section 4).

Each customer becomes an idea of value `weight` and cost 0 that requires the requirements it
asks for; each requirement an idea of value 0 and its cost; each dependency `[a, b]` ("a
before b") is requires(b, a). The budget is round-half-up(ratio x total cost), the convention
under which the published optima hold.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any


def nrp_budget(total_cost: int, ratio: str | float) -> int:
    """round-half-up(ratio x total cost), computed exactly."""
    return math.floor(Fraction(str(ratio)) * total_cost + Fraction(1, 2))


def nrp_scenario(nrp: dict[str, Any], ratio: str | float, *, time_limit: float = 600.0) -> dict[str, Any]:
    """The scenario document (as a dict) of an NRP instance in the JSON form of the benchmark."""
    total = sum(r["cost"] for r in nrp["requirements"])
    ideas = [{"id": f"R{r['id']}", "value": 0, "cost": r["cost"]} for r in nrp["requirements"]]
    ideas += [{"id": f"C{c['id']}", "value": c["weight"], "cost": 0} for c in nrp["customers"]]
    constraints = [
        {"kind": "requires", "idea": f"C{c['id']}", "on": f"R{r}"} for c in nrp["customers"] for r in c["requests"]
    ]
    constraints += [{"kind": "requires", "idea": f"R{b}", "on": f"R{a}"} for a, b in nrp["dependencies"]]
    return {
        "name": f"{nrp['name']} at ratio {ratio}",
        "phases": [{"key": "release", "budget": nrp_budget(total, ratio)}],
        "ideas": ideas,
        "constraints": constraints,
        "solver": {"timeLimitSeconds": time_limit, "relativeGap": 0.0},
    }
