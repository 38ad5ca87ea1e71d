import math

import msgspec
import pytest
from optimiser_helpers import idea, load, scenario

from services.roadmap.optimiser import ScenarioError, decode_scenario
from services.roadmap.optimiser.instance import Coverage, Pin, Requires
from services.roadmap.optimiser.scenario import IdeaDoc, PhaseDoc, ScenarioDoc, to_instance

pytestmark = pytest.mark.unit

DESIGN_EXAMPLE = {
    "name": "Q3 plan, Improve +20%",
    "phases": [
        {"key": "discovery", "budget": 120000},
        {"key": "improve", "budget": 300000},
        {"key": "perfection", "budget": 250000},
        {"key": "personalization", "budget": 150000},
    ],
    "teams": [{"key": "web", "capacity": {"improve": 120, "perfection": 200}}],
    "ideas": [
        {
            "id": "I-17",
            "title": "Explain fees before checkout",
            "value": 84.5,
            "cost": 18000,
            "effort": {"web": 15},
            "phases": ["improve", "perfection"],
            "attributes": {"journeyStage": "purchase", "persona": "first-time buyer"},
        },
        *({"id": f"I-{n}", "value": n, "cost": 1000} for n in (3, 4, 9, 20, 21)),
    ],
    "constraints": [
        {"kind": "mandatory", "idea": "I-3"},
        {"kind": "pin", "idea": "I-4", "phase": "discovery"},
        {"kind": "exclude", "idea": "I-9"},
        {"kind": "requires", "idea": "I-17", "on": "I-4", "finishToStart": True},
        {"kind": "excludes", "ideas": ["I-20", "I-21"]},
        {"kind": "coverage", "attribute": "journeyStage", "atLeast": 1},
    ],
    "objective": {"phaseDiscount": {"discovery": 1.0, "improve": 0.95, "perfection": 0.85, "personalization": 0.75}},
    "solver": {"timeLimitSeconds": 30, "relativeGap": 0.0},
}


def test_the_design_example_decodes_with_its_field_names():
    instance = load(DESIGN_EXAMPLE)
    assert [p.key for p in instance.phases] == ["discovery", "improve", "perfection", "personalization"]
    assert instance.teams[0].capacity == (0.0, 120.0, 200.0, 0.0)
    fees = instance.ideas[0]
    assert (fees.value, fees.cost, fees.effort, fees.phases) == (84.5, 18000.0, ((0, 15.0),), (1, 2))
    assert instance.discount == (1.0, 0.95, 0.85, 0.75)
    assert instance.solver.time_limit_seconds == 30
    assert isinstance(instance.constraints[1], Pin) and instance.constraints[1].phase == 0
    assert instance.constraints[3] == Requires(ref=3, idea=0, on=2, finish_to_start=True)
    assert isinstance(instance.constraints[5], Coverage)


def test_defaults_all_phases_eligible_discount_one_and_explicit_solver_limits():
    instance = load(scenario([idea("a")], phases=[{"key": "x", "budget": 0}, {"key": "y", "budget": 5}]))
    assert instance.ideas[0].phases == (0, 1)
    assert instance.discount == (1.0, 1.0)
    assert instance.solver.time_limit_seconds > 0 and instance.solver.relative_gap == 0


def _with(path: list, value) -> dict:
    document = msgspec.json.decode(msgspec.json.encode(DESIGN_EXAMPLE))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


BAD = [
    (_with(["ideas", 0, "phases", 1], "improv"), "ideas[0].phases[1]", "unknown phase 'improv'"),
    (_with(["phases", 1, "budget"], -5), "phases[1].budget", ">= 0"),
    (_with(["phases", 1, "key"], "discovery"), "phases[1].key", "duplicate phase"),
    (_with(["ideas", 1, "id"], "I-17"), "ideas[1].id", "duplicate idea id"),
    (_with(["ideas", 0, "value"], "high"), "ideas[0].value", "Expected `float`"),
    (_with(["ideas", 0, "cost"], -1), "ideas[0].cost", ">= 0"),
    (_with(["ideas", 0, "effort"], {"mobile": 3}), "ideas[0].effort.mobile", "unknown team"),
    (_with(["ideas", 0, "colour"], "red"), "ideas[0]", "unknown field `colour`"),
    (_with(["teams", 0, "capacity"], {"later": 3}), "teams[0].capacity.later", "unknown phase"),
    (_with(["constraints", 0, "idea"], "I-99"), "constraints[0].idea", "unknown idea 'I-99'"),
    (_with(["constraints", 1, "phase"], "someday"), "constraints[1].phase", "unknown phase"),
    (_with(["constraints", 2], {"kind": "forbid", "idea": "I-9"}), "constraints[2].kind", "Invalid value 'forbid'"),
    (_with(["constraints", 3, "on"], "I-17"), "constraints[3].on", "cannot require itself"),
    (_with(["constraints", 3, "idea"], "I-99"), "constraints[3].idea", "unknown idea 'I-99'"),
    (_with(["constraints", 3, "on"], "I-98"), "constraints[3].on", "unknown idea 'I-98'"),
    (_with(["constraints", 2, "idea"], "I-97"), "constraints[2].idea", "unknown idea 'I-97'"),
    (_with(["constraints", 4, "ideas"], ["I-20", "I-96"]), "constraints[4].ideas[1]", "unknown idea 'I-96'"),
    (_with(["constraints", 4, "ideas"], ["I-20"]), "constraints[4].ideas", "length >= 2"),
    (_with(["constraints", 4, "ideas"], ["I-20", "I-20"]), "constraints[4].ideas[1]", "listed twice"),
    (_with(["constraints", 5, "attribute"], "stage"), "constraints[5].attribute", "no idea has the attribute"),
    (_with(["constraints", 5, "atLeast"], -1), "constraints[5].atLeast", ">= 0"),
    (_with(["objective", "phaseDiscount", "later"], 0.5), "objective.phaseDiscount.later", "unknown phase"),
    (_with(["solver", "timeLimitSeconds"], 0), "solver.timeLimitSeconds", "> 0"),
    (_with(["phases"], []), "phases", "length >= 1"),
]


@pytest.mark.parametrize(("document", "path", "message"), BAD, ids=[b[1] for b in BAD])
def test_a_bad_document_names_the_field(document, path, message):
    with pytest.raises(ScenarioError) as caught:
        load(document)
    assert caught.value.path == path
    assert message in str(caught.value)


def test_unknown_top_level_fields_and_non_json_are_rejected():
    with pytest.raises(ScenarioError, match="unknown field `budget`"):
        load({**scenario([idea("a")]), "budget": 3})
    with pytest.raises(ScenarioError, match="JSON"):
        decode_scenario(b'{"phases": [')


@pytest.mark.parametrize("field", ["value", "cost"])
def test_an_idea_number_that_is_not_finite_is_named(field):
    # JSON cannot carry one (msgspec rejects 1e999), but a document built in code can.
    numbers = {"value": 1.0, "cost": 1.0, field: math.inf}
    ideas = [IdeaDoc(id="a", value=1.0, cost=1.0), IdeaDoc(id="b", **numbers)]
    with pytest.raises(ScenarioError) as caught:
        to_instance(ScenarioDoc(phases=[PhaseDoc(key="p", budget=1.0)], ideas=ideas))
    assert caught.value.path == f"ideas[1].{field}"
    assert "must be a finite number" in str(caught.value)
