import msgspec
import pytest
from optimiser_helpers import idea, run, scenario

from services.roadmap.optimiser import INFEASIBLE, result_document

pytestmark = pytest.mark.unit

FOUR = [{"key": k, "budget": 100} for k in ("discovery", "improve", "perfection", "personalization")]


def _diagnosis(document):
    _, solution = run(document)
    assert solution.status == INFEASIBLE and solution.plan is None
    return solution.diagnosis


def test_mandatory_ideas_costing_more_than_their_phases_have():
    phases = [{"key": "discovery", "budget": 500000}, {"key": "improve", "budget": 300000}]
    ideas = [idea(f"M{k}", cost=c, phases=["improve"]) for k, c in enumerate((200000, 210000))]
    (conflict,) = _diagnosis(
        scenario(
            ideas, phases=phases, constraints=[{"kind": "mandatory", "idea": "M0"}, {"kind": "mandatory", "idea": "M1"}]
        )
    )
    assert conflict.kind == "budget"
    assert "410,000" in conflict.message and "300,000" in conflict.message
    assert set(conflict.constraints) == {"phases[1].budget", "constraints[0]", "constraints[1]"}


def test_pinned_work_beyond_a_team_capacity():
    teams = [{"key": "web", "capacity": {"improve": 10}}]
    ideas = [idea("A", effort={"web": 6}), idea("B", effort={"web": 6})]
    pins = [{"kind": "pin", "idea": i, "phase": "improve"} for i in ("A", "B")]
    (conflict,) = _diagnosis(scenario(ideas, phases=FOUR, teams=teams, constraints=pins))
    assert conflict.kind == "capacity"
    assert "teams[0].capacity.improve" in conflict.constraints


def test_a_pin_to_a_phase_the_idea_is_not_eligible_for():
    (conflict,) = _diagnosis(
        scenario(
            [idea("A", phases=["improve"])],
            phases=FOUR,
            constraints=[{"kind": "pin", "idea": "A", "phase": "discovery"}],
        )
    )
    assert conflict.kind == "pin_not_eligible"
    assert conflict.constraints == ("constraints[0]", "ideas[0].phases")


def test_the_result_names_an_ideas_fields_by_its_id_not_its_position():
    # A scenario made from the backlog has no idea list its user wrote: ideas[1] means nothing.
    document = scenario(
        [idea("CJ-3"), idea("CJ-7", phases=["improve"])],
        phases=FOUR,
        constraints=[{"kind": "pin", "idea": "CJ-7", "phase": "discovery"}],
    )
    instance, solution = run(document)
    (conflict,) = msgspec.to_builtins(result_document(instance, solution))["diagnosis"]
    assert conflict["constraints"] == ["constraints[0]", "ideas[CJ-7].phases"]
    assert "CJ-7" in conflict["message"]


def test_two_pins_of_one_idea():
    pins = [{"kind": "pin", "idea": "A", "phase": p} for p in ("discovery", "improve")]
    kinds = {c.kind for c in _diagnosis(scenario([idea("A")], phases=FOUR, constraints=pins))}
    assert kinds == {"conflicting_pins"}


def test_a_mandatory_idea_that_is_also_excluded():
    (conflict,) = _diagnosis(
        scenario([idea("A")], constraints=[{"kind": "mandatory", "idea": "A"}, {"kind": "exclude", "idea": "A"}])
    )
    assert conflict.kind == "forced_and_excluded"
    assert set(conflict.constraints) == {"constraints[0]", "constraints[1]"}


def test_a_finish_to_start_requires_cycle():
    constraints = [
        {"kind": "mandatory", "idea": "A"},
        {"kind": "requires", "idea": "A", "on": "B", "finishToStart": True},
        {"kind": "requires", "idea": "B", "on": "A"},
    ]
    (conflict,) = _diagnosis(scenario([idea("A"), idea("B")], phases=FOUR, constraints=constraints))
    assert conflict.kind == "requires_cycle"
    assert {"constraints[1]", "constraints[2]"} <= set(conflict.constraints)


def test_a_finish_to_start_chain_longer_than_the_phases():
    constraints = [
        {"kind": "pin", "idea": "C", "phase": "improve"},
        {"kind": "requires", "idea": "C", "on": "B", "finishToStart": True},
        {"kind": "requires", "idea": "B", "on": "A", "finishToStart": True},
    ]
    (conflict,) = _diagnosis(scenario([idea("A"), idea("B"), idea("C")], phases=FOUR, constraints=constraints))
    assert conflict.kind == "requires_unsatisfiable"
    assert "constraints[0]" in conflict.constraints


def test_two_mandatory_ideas_that_exclude_each_other():
    constraints = [
        {"kind": "mandatory", "idea": "A"},
        {"kind": "mandatory", "idea": "B"},
        {"kind": "excludes", "ideas": ["A", "B"]},
    ]
    (conflict,) = _diagnosis(scenario([idea("A"), idea("B")], constraints=constraints))
    assert conflict.kind == "forced_excludes"
    assert set(conflict.constraints) == {"constraints[0]", "constraints[1]", "constraints[2]"}


def test_coverage_that_too_few_ideas_can_meet():
    ideas = [idea("A", attributes={"stage": "buy"}), idea("B", attributes={"stage": "use"})]
    constraints = [{"kind": "exclude", "idea": "B"}, {"kind": "coverage", "attribute": "stage", "atLeast": 1}]
    (conflict,) = _diagnosis(scenario(ideas, constraints=constraints))
    assert conflict.kind == "coverage_impossible"
    assert '"use"' in conflict.message and conflict.constraints == ("constraints[1]",)


def test_a_conflict_only_the_solver_sees_is_named_by_a_minimal_set():
    # Each stage can be covered, and the budget fits either, but not both with the mandatory idea.
    ideas = [
        idea("A", cost=60, attributes={"stage": "buy"}),
        idea("B", cost=60, attributes={"stage": "use"}),
        idea("M", cost=30),
        idea("X", cost=1),
    ]
    constraints = [
        {"kind": "exclude", "idea": "X"},
        {"kind": "mandatory", "idea": "M"},
        {"kind": "coverage", "attribute": "stage", "atLeast": 1},
    ]
    (conflict,) = _diagnosis(scenario(ideas, constraints=constraints))
    assert conflict.kind == "conflicting_constraints"
    assert set(conflict.constraints) == {"phases[0].budget", "constraints[2]"}
    assert "minimal" in conflict.message


# The three infeasible scenarios of issue 10, among unrelated ideas and constraints, each
# diagnosed to exactly its conflict; the oracle checks that dropping any one named field
# makes the scenario feasible, and that it is infeasible as given.


def _noise(n: int = 24) -> tuple[list, list]:
    ideas = [idea(f"N{k}", value=k % 7 + 1, cost=10 + k % 5, attributes={"stage": "use"}) for k in range(n)]
    constraints = [{"kind": "requires", "idea": f"N{k}", "on": f"N{k - 1}"} for k in range(1, n, 3)]
    constraints += [{"kind": "excludes", "ideas": [f"N{k}", f"N{k + 1}"]} for k in range(2, n - 1, 5)]
    return ideas, constraints


def _without(document: dict, path: str) -> dict:
    """The document with the field at `path` dropped (an idea's `phases` becomes every phase)."""
    doc = {**document, "ideas": [dict(i) for i in document["ideas"]], "constraints": list(document["constraints"])}
    head, number = path.split("[")[0], int(path.split("[")[1].split("]")[0])
    if head == "constraints":
        doc["constraints"][number] = {"kind": "exclude", "idea": "UNUSED"}
    elif head == "ideas":
        del doc["ideas"][number]["phases"]
    else:
        doc["teams"] = [dict(t) for t in document["teams"]]
        doc["teams"][number] = {**doc["teams"][number], "capacity": {p["key"]: 10**6 for p in doc["phases"]}}
    return doc


def _minimal_by_the_oracle(document: dict, paths) -> None:
    document = {**document, "ideas": [*document["ideas"], idea("UNUSED", value=0)]}
    assert oracle_optimum(document) is None
    for path in paths:
        assert oracle_optimum(_without(document, path)) is not None, path


def oracle_optimum(document):
    from oracle import highs_optimum

    status, best = highs_optimum(document)
    assert status in ("Optimal", "Infeasible")
    return best


def test_a_blocking_chain_names_every_requirement_and_the_phases_that_matter():
    ideas, constraints = _noise()
    only = ["improve", "perfection"]
    ideas += [idea("I11", phases=only), idea("I12", phases=only), idea("I13", phases=only)]
    constraints += [
        {"kind": "mandatory", "idea": "I13"},
        {"kind": "requires", "idea": "I13", "on": "I12", "finishToStart": True},
        {"kind": "requires", "idea": "I12", "on": "I11", "finishToStart": True},
    ]
    document = scenario(
        ideas,
        phases=[{"key": k, "budget": 1000} for k in ("discovery", "improve", "perfection", "personalization")],
        constraints=constraints,
    )
    (conflict,) = _diagnosis(document)
    n, k = len(constraints), len(ideas)
    assert conflict.kind == "requires_unsatisfiable"
    expected = {
        f"constraints[{n - 3}]",
        f"constraints[{n - 2}]",
        f"constraints[{n - 1}]",
        f"ideas[{k - 1}].phases",
        f"ideas[{k - 3}].phases",
    }
    assert set(conflict.constraints) == expected
    assert all(name in conflict.message for name in ("I11", "I12", "I13", "improve, perfection"))
    _minimal_by_the_oracle(document, expected)


def _solves(message: str) -> int:
    return int(message.split("found in ")[1].split(" solves")[0])


def test_coverage_of_two_ideas_that_exclude_each_other():
    ideas, constraints = _noise()
    ideas += [idea("A", attributes={"stage": "buy"}), idea("B", attributes={"stage": "buy"})]
    constraints += [{"kind": "excludes", "ideas": ["A", "B"]}, {"kind": "coverage", "attribute": "stage", "atLeast": 2}]
    document = scenario(
        ideas, phases=[{"key": "now", "budget": 1000}, {"key": "next", "budget": 1000}], constraints=constraints
    )
    (conflict,) = _diagnosis(document)
    n = len(constraints)
    assert conflict.kind == "conflicting_constraints"
    assert set(conflict.constraints) == {f"constraints[{n - 2}]", f"constraints[{n - 1}]"}
    assert "A, B" in conflict.message and '"buy"' in conflict.message and "minimal" in conflict.message
    assert _solves(conflict.message) <= 20
    _minimal_by_the_oracle(document, conflict.constraints)


def test_coverage_against_a_team_capacity():
    ideas, constraints = _noise()
    ideas += [idea(k, effort={"web": 6}, phases=["improve"], attributes={"stage": "buy"}) for k in ("A", "B")]
    constraints += [{"kind": "coverage", "attribute": "stage", "atLeast": 2}]
    teams = [{"key": "web", "capacity": {"improve": 10, "perfection": 40}}]
    phases = [{"key": k, "budget": 1000} for k in ("improve", "perfection")]
    document = scenario(ideas, phases=phases, teams=teams, constraints=constraints)
    (conflict,) = _diagnosis(document)
    assert conflict.kind == "conflicting_constraints"
    assert set(conflict.constraints) == {f"constraints[{len(constraints) - 1}]", "teams[0].capacity.improve"}
    assert "web in improve: 10" in conflict.message and "A, B" in conflict.message
    assert _solves(conflict.message) <= 20
    _minimal_by_the_oracle(document, conflict.constraints)


def test_a_mandatory_idea_that_fits_none_of_its_phases_alone():
    ideas, constraints = _noise()
    ideas.append(idea("M", effort={"web": 30}, phases=["improve", "perfection"]))
    constraints.append({"kind": "mandatory", "idea": "M"})
    teams = [{"key": "web", "capacity": {"discovery": 40, "improve": 25, "perfection": 22}}]
    phases = [{"key": k, "budget": 1000} for k in ("discovery", "improve", "perfection")]
    document = scenario(ideas, phases=phases, teams=teams, constraints=constraints)
    (conflict,) = _diagnosis(document)
    k, n = len(ideas) - 1, len(constraints) - 1
    assert conflict.kind == "does_not_fit"
    expected = {"teams[0].capacity.improve", "teams[0].capacity.perfection", f"ideas[{k}].phases", f"constraints[{n}]"}
    assert set(conflict.constraints) == expected
    assert "web has 25 in improve" in conflict.message
    _minimal_by_the_oracle(document, expected)


def test_every_conflict_is_reported_not_only_the_first_kind_found():
    # A is pinned where it may not go; B and C, both mandatory, exclude each other: two
    # conflicts of different kinds, each fixed on its own, both reported.
    ideas = [idea("A", phases=["improve"]), idea("B"), idea("C")]
    constraints = [
        {"kind": "pin", "idea": "A", "phase": "discovery"},
        {"kind": "mandatory", "idea": "B"},
        {"kind": "mandatory", "idea": "C"},
        {"kind": "excludes", "ideas": ["B", "C"]},
    ]
    conflicts = _diagnosis(scenario(ideas, phases=FOUR, constraints=constraints))
    assert [c.kind for c in conflicts] == ["pin_not_eligible", "forced_excludes"]
    assert set(conflicts[1].constraints) == {"constraints[1]", "constraints[2]", "constraints[3]"}
