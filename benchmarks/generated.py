"""Generated multi-phase scenarios of 40 to 600 ideas, for the optimiser's speed benchmark.

Four phases, three teams, values and costs spread as in a real backlog, a few prerequisites
(some finish-to-start), pairs that exclude each other, cheap mandatory ideas and one coverage
rule. Budgets fund about 40% of the backlog; team capacities are looser than in
`optimiser_scale.journey_scenario`, so HiGHS proves most of these optimal in seconds, as a
real portfolio of this size would be.
"""

from __future__ import annotations

import random

PHASES = ("discovery", "improve", "perfection", "personalization")
SHARE = (0.15, 0.35, 0.30, 0.20)
TEAMS = ("web", "mobile", "data")
MORE_TEAMS = tuple(f"team-{k:02d}" for k in range(20))
STAGES = ("awareness", "consideration", "purchase", "onboarding", "usage", "loyalty")


def multi_phase(n: int, seed: int = 1, teams: int = 3) -> dict:
    """A reproducible scenario document with `n` ideas and 3 (or up to 20) teams."""
    rng = random.Random(seed * 7919 + n)
    names = TEAMS if teams == 3 else MORE_TEAMS[:teams]
    ideas = []
    for k in range(n):
        first = rng.choices(range(4), weights=(2, 4, 3, 1))[0]
        last = min(3, first + rng.choice((0, 1, 1, 2)))
        ideas.append(
            {
                "id": f"G-{k:04d}",
                "value": round(rng.lognormvariate(3.0, 0.7), 1),
                "cost": rng.randrange(5000, 60001, 500),
                "effort": {t: rng.randrange(2, 21) for t in rng.sample(names, rng.choice((1, 1, 2)))},
                "phases": list(PHASES[first : last + 1]),
                "attributes": {"journeyStage": rng.choice(STAGES)},
            }
        )
    total_cost = sum(i["cost"] for i in ideas)
    effort = {t: sum(i["effort"].get(t, 0) for i in ideas) for t in names}
    constraints: list[dict] = []
    for k in range(1, n):
        if rng.random() < 0.08:
            on = rng.randrange(max(0, k - 20), k)
            constraints.append({"kind": "requires", "idea": ideas[k]["id"], "on": ideas[on]["id"],
                                "finishToStart": rng.random() < 0.5})  # fmt: skip
    for _ in range(max(1, n // 40)):
        a, b = rng.sample(range(n), 2)
        constraints.append({"kind": "excludes", "ideas": [ideas[a]["id"], ideas[b]["id"]]})
    bound = {c["idea"] for c in constraints if c["kind"] == "requires"}
    bound |= {i for c in constraints if c["kind"] == "excludes" for i in c["ideas"]}
    free = [k for k in range(n) if ideas[k]["id"] not in bound and len(ideas[k]["phases"]) > 1]
    for k in sorted(free, key=lambda k: ideas[k]["cost"])[: max(1, n // 50)]:
        constraints.append({"kind": "mandatory", "idea": ideas[k]["id"]})
    constraints.append({"kind": "coverage", "attribute": "journeyStage", "atLeast": 1})
    return {
        "name": f"generated, {n} ideas, seed {seed}",
        "phases": [{"key": p, "budget": round(0.4 * total_cost * s, -3)} for p, s in zip(PHASES, SHARE)],
        "teams": [
            {"key": t, "capacity": {p: round(0.6 * effort[t] * s) for p, s in zip(PHASES, SHARE)}} for t in names
        ],
        "ideas": ideas,
        "constraints": constraints,
        "objective": {"phaseDiscount": dict(zip(PHASES, (1.0, 0.95, 0.85, 0.75)))},
        "solver": {"timeLimitSeconds": 60, "relativeGap": 0.0},
    }
