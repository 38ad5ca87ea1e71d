"""Building scenario documents for the optimiser tests."""

from __future__ import annotations

import random
from typing import Any

import msgspec
from hypothesis import strategies as st

from services.roadmap.optimiser import Instance, SolveConfig, decode_scenario, solve


def scenario(ideas: list[dict[str, Any]], *, phases=None, teams=(), constraints=(), **more: Any) -> dict[str, Any]:
    """A scenario document with sensible defaults: one phase `p` of budget 100."""
    return {
        "phases": phases or [{"key": "p", "budget": 100}],
        "teams": list(teams),
        "ideas": ideas,
        "constraints": list(constraints),
        **more,
    }


def idea(id: str, value: float = 1, cost: float = 1, **more: Any) -> dict[str, Any]:
    """An idea document."""
    return {"id": id, "value": value, "cost": cost, **more}


def load(document: dict[str, Any]) -> Instance:
    """Decode a scenario document given as a dict."""
    return decode_scenario(msgspec.json.encode(document))


def run(document: dict[str, Any], **config: Any):
    """Decode and solve; returns (instance, solution)."""
    instance = load(document)
    config.setdefault("time_limit", 20)
    return instance, solve(instance, SolveConfig.for_instance(instance, **config))


def medium_scenario(seed: int = 1, n: int = 300, phases: int = 4) -> dict[str, Any]:
    """A random scenario HiGHS needs seconds to prove: many ideas sharing budgets and a team."""
    r = random.Random(seed)
    keys = [f"p{k}" for k in range(phases)]
    ideas = [
        idea(f"I{i}", value=r.randint(1, 100), cost=r.randint(10, 200), effort={"t": r.randint(1, 10)})
        for i in range(n)
    ]
    pairs = {(r.randrange(n), r.randrange(n)) for _ in range(n // 8)}
    constraints = [{"kind": "requires", "idea": f"I{a}", "on": f"I{b}"} for a, b in pairs if a != b]
    return scenario(
        ideas,
        phases=[{"key": k, "budget": 2000} for k in keys],
        teams=[{"key": "t", "capacity": {k: 150 for k in keys}}],
        constraints=constraints,
        objective={"phaseDiscount": {k: 1 - 0.1 * n for n, k in enumerate(keys)}},
    )


@st.composite
def scenarios(draw):
    """Small random scenarios using every constraint kind."""
    n_phases = draw(st.integers(1, 3))
    phases = [f"p{k}" for k in range(n_phases)]
    n_ideas = draw(st.integers(1, 5))
    ids = [f"I{k}" for k in range(n_ideas)]
    teams = [
        {"key": f"t{k}", "capacity": {p: draw(st.integers(0, 8)) for p in phases if draw(st.booleans())}}
        for k in range(draw(st.integers(0, 2)))
    ]
    ideas = []
    for i in ids:
        doc = {
            "id": i,
            "value": draw(st.sampled_from([0, 1, 2, 3, 5, 7.5, 10])),
            "cost": draw(st.integers(0, 10)),
            "attributes": {"stage": draw(st.sampled_from(["a", "b"]))},
        }
        if draw(st.booleans()):
            doc["phases"] = draw(st.lists(st.sampled_from(phases), unique=True, max_size=n_phases))
        if teams:
            doc["effort"] = {t["key"]: draw(st.integers(0, 4)) for t in teams if draw(st.booleans())}
        ideas.append(doc)
    constraints = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["mandatory", "pin", "exclude", "requires", "excludes", "coverage"]))
        one = draw(st.sampled_from(ids))
        if kind in ("mandatory", "exclude"):
            constraints.append({"kind": kind, "idea": one})
        elif kind == "pin":
            constraints.append({"kind": kind, "idea": one, "phase": draw(st.sampled_from(phases))})
        elif kind == "requires" and n_ideas > 1:
            on = draw(st.sampled_from([i for i in ids if i != one]))
            constraints.append({"kind": kind, "idea": one, "on": on, "finishToStart": draw(st.booleans())})
        elif kind == "excludes" and n_ideas > 1:
            constraints.append(
                {"kind": kind, "ideas": draw(st.lists(st.sampled_from(ids), min_size=2, max_size=3, unique=True))}
            )
        elif kind == "coverage":
            cover = {"kind": kind, "attribute": "stage", "atLeast": draw(st.integers(0, 2))}
            if draw(st.booleans()):
                cover["phase"] = draw(st.sampled_from(phases))
            constraints.append(cover)
    discount = {p: draw(st.sampled_from([1.0, 0.9, 0.75, 0.5])) for p in phases}
    return {
        "phases": [{"key": p, "budget": draw(st.integers(0, 20))} for p in phases],
        "teams": teams,
        "ideas": ideas,
        "constraints": constraints,
        "objective": {"phaseDiscount": discount},
    }
