"""Every scoring model against values computed by hand, its breakdown, and when it refuses to score."""

from __future__ import annotations

import math

import msgspec
import pytest
from hypothesis import given, settings, strategies as st

from services.scoring.domain import ESTIMATE_FIELDS, DomainError, Estimates
from services.scoring.formulas import (
    Contribution,
    Criterion,
    CustomModel,
    IceModel,
    RiceModel,
    RoiModel,
    Scored,
    ScoringModel,
    Unscored,
    ValueEffortModel,
    WeightedModel,
    WsjfModel,
    required_fields,
    score_idea,
)

pytestmark = pytest.mark.unit

FULL = Estimates(
    customer_impact=8.0,
    reach=2000.0,
    confidence=0.5,
    effort={"web": 3.0, "app": 1.0},
    cost=20000.0,
    annual_benefit=30000.0,
    time_criticality=5.0,
    risk_reduction=3.0,
)


def model(definition: dict) -> ScoringModel:
    return msgspec.convert(definition, ScoringModel)


def scored(result: Scored | Unscored) -> Scored:
    assert isinstance(result, Scored), result
    assert sum(part.contribution for part in result.breakdown) == result.value
    return result


# --- hand-computed values ----------------------------------------------------------------


def test_rice_is_reach_times_impact_times_confidence_over_effort():
    estimates = Estimates(reach=2000.0, customer_impact=3.0, confidence=0.8, effort={"web": 3.0, "app": 1.0})
    result = scored(score_idea(model({"kind": "rice"}), estimates))
    # 2000 x 3 x 0.8 / (3 + 1) = 4800 / 4
    assert result.value == pytest.approx(1200.0)
    assert result.breakdown == (
        Contribution("rice", {"reach": 2000.0, "customer_impact": 3.0, "confidence": 0.8, "effort": 4.0}, result.value),
    )


def test_wsjf_splits_cost_of_delay_over_effort():
    result = scored(score_idea(WsjfModel(), FULL))
    # (8 + 5 + 3) / 4 = 16 / 4 = 4.0, as 8/4 + 5/4 + 3/4 = 2.0 + 1.25 + 0.75
    assert result.value == 4.0
    assert [(part.criterion, part.contribution) for part in result.breakdown] == [
        ("customer_impact", 2.0),
        ("time_criticality", 1.25),
        ("risk_reduction", 0.75),
    ]
    assert result.breakdown[1].inputs == {"time_criticality": 5.0, "effort": 4.0}


@pytest.mark.parametrize(
    ("definition", "effort", "expected"),
    [
        ({"kind": "ice"}, {"web": 4.0}, 10.0),  # ease 10/4 = 2.5; 8 x 0.5 x 2.5
        ({"kind": "ice", "referenceEffort": 20}, {"web": 8.0}, 10.0),  # ease 20/8 = 2.5
        ({"kind": "ice"}, {"web": 0.5}, 40.0),  # ease 10/0.5 = 20, capped at 10; 8 x 0.5 x 10
        ({"kind": "ice"}, {"web": 0.0}, 40.0),  # no effort: ease 10
    ],
)
def test_ice_is_impact_times_confidence_times_ease(definition, effort, expected):
    result = scored(score_idea(model(definition), msgspec.structs.replace(FULL, effort=effort)))
    assert result.value == expected
    assert result.breakdown[0].criterion == "ice"
    assert set(result.breakdown[0].inputs) == {"customer_impact", "confidence", "effort", "ease"}


@pytest.mark.parametrize(
    ("definition", "expected", "inputs"),
    [
        ({"kind": "value_effort"}, 7500.0, {"annual_benefit": 30000.0, "effort": 4.0}),  # 30000 / 4
        ({"kind": "value_effort", "effortField": "cost"}, 1.5, {"annual_benefit": 30000.0, "cost": 20000.0}),
        ({"kind": "value_effort", "valueField": "customer_impact"}, 2.0, {"customer_impact": 8.0, "effort": 4.0}),
    ],
)
def test_value_effort_is_a_ratio(definition, expected, inputs):
    result = scored(score_idea(model(definition), FULL))
    assert result.value == expected
    assert result.breakdown == (Contribution("value_effort", inputs, expected),)


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"kind": "roi"}, 0.5),  # (30000 x 1 - 20000) / 20000
        ({"kind": "roi", "horizonYears": 3}, 3.5),  # (90000 - 20000) / 20000
    ],
)
def test_roi_is_net_return_over_cost(definition, expected):
    result = scored(score_idea(model(definition), FULL))
    assert result.value == expected
    assert result.breakdown[0].inputs == {"annual_benefit": 30000.0, "cost": 20000.0}


def test_weighted_adds_one_contribution_per_criterion():
    definition = {
        "kind": "weighted",
        "criteria": [
            {"field": "customer_impact", "weight": 2},
            {"field": "reach", "weight": 0.5, "scaleMin": 0, "scaleMax": 8000},
            {"field": "cost", "weight": -0.0001},
        ],
    }
    result = scored(score_idea(model(definition), FULL))
    # 2 x 8 = 16; 0.5 x (2000 - 0) / (8000 - 0) = 0.125; -0.0001 x 20000 = -2; 16 + 0.125 - 2
    assert result.value == pytest.approx(14.125)
    assert [part.criterion for part in result.breakdown] == ["customer_impact", "reach", "cost"]
    assert [part.contribution for part in result.breakdown] == [16.0, 0.125, pytest.approx(-2.0)]
    assert result.breakdown[1].inputs == {"reach": 2000.0}


def test_custom_breaks_down_by_top_level_term():
    formula = "reach * customer_impact / effort + 2 * confidence - cost / 1000"
    result = scored(score_idea(CustomModel(formula=formula), FULL))
    # 2000 x 8 / 4 = 4000; 2 x 0.5 = 1; 20000 / 1000 = 20; 4000 + 1 - 20
    assert result.value == 3981.0
    assert result.breakdown == (
        Contribution(
            "reach * customer_impact / effort", {"customer_impact": 8.0, "reach": 2000.0, "effort": 4.0}, 4000.0
        ),
        Contribution("2 * confidence", {"confidence": 0.5}, 1.0),
        Contribution("-(cost / 1000)", {"cost": 20000.0}, -20.0),
    )


def test_custom_constant_formula_has_one_term_without_inputs():
    result = scored(score_idea(CustomModel(formula="(1 + 2) * 3"), Estimates()))
    assert result.breakdown == (Contribution("(1 + 2) * 3", {}, 9.0),)


# --- unscored ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scoring_model", "missing"),
    [
        (RiceModel(), ("customer_impact", "confidence", "effort")),
        (WsjfModel(), ("customer_impact", "effort", "time_criticality", "risk_reduction")),
        (IceModel(), ("customer_impact", "confidence", "effort")),
        (ValueEffortModel(), ("effort", "annual_benefit")),
        (RoiModel(), ("cost", "annual_benefit")),
        (
            WeightedModel(
                criteria=(Criterion(field="risk_reduction", weight=1), Criterion(field="customer_impact", weight=1))
            ),
            ("customer_impact", "risk_reduction"),
        ),
        (CustomModel(formula="risk_reduction + sqrt(cost) * reach"), ("cost", "risk_reduction")),
    ],
)
def test_missing_estimates_are_listed_in_field_order_never_scored_as_zero(scoring_model, missing):
    result = score_idea(scoring_model, Estimates(reach=100.0))
    assert result == Unscored(missing, f"missing estimates: {', '.join(missing)}")


def test_zero_estimates_are_not_missing():
    result = score_idea(WeightedModel(criteria=(Criterion(field="reach", weight=3),)), Estimates(reach=0.0))
    assert scored(result).value == 0.0


@pytest.mark.parametrize(
    ("scoring_model", "reason"),
    [
        (RiceModel(), "division by zero: effort is 0"),
        (WsjfModel(), "division by zero: effort is 0"),
        (ValueEffortModel(), "division by zero: effort is 0"),
        (ValueEffortModel(effort_field="cost"), "division by zero: cost is 0"),
        (RoiModel(), "division by zero: cost is 0"),
        (CustomModel(formula="reach / cost"), "division by zero in 'reach / cost'"),
        (
            CustomModel(formula="1 + sqrt(reach - 200)"),
            "'sqrt(reach - 200)' cannot be computed: sqrt of a negative number (-100.0)",
        ),
        (
            CustomModel(formula="log(cost)"),
            "'log(cost)' cannot be computed: log of a number that is not positive (0.0)",
        ),
        (CustomModel(formula="9^9^9"), "'9^9^9' is too large to be a number"),
        (CustomModel(formula="reach ^ 1000"), "'reach ^ 1000' is too large to be a number"),
        (CustomModel(formula="(0 - 8) ^ 0.5"), "'(0 - 8) ^ 0.5' cannot be computed: math domain error"),
        (
            CustomModel(formula="clamp(reach, 5, 1)"),
            "'clamp(reach, 5, 1)' cannot be computed: clamp with a lower bound above the upper bound (5.0 > 1.0)",
        ),
    ],
)
def test_impossible_arithmetic_is_unscored_with_a_reason(scoring_model, reason):
    estimates = Estimates(
        customer_impact=5.0,
        reach=100.0,
        confidence=1.0,
        effort={"web": 0.0},
        cost=0.0,
        annual_benefit=10.0,
        time_criticality=1.0,
        risk_reduction=1.0,
    )
    assert score_idea(scoring_model, estimates) == Unscored((), reason)


def test_overflowing_results_are_unscored_not_infinite():
    estimates = Estimates(reach=1e308, customer_impact=10.0, confidence=1.0, effort={"web": 0.5})
    assert score_idea(RiceModel(), estimates) == Unscored((), "the result is not a finite number")
    assert score_idea(CustomModel(formula="reach * 10 - reach * 10"), estimates) == Unscored(
        (), "the result is not a finite number"
    )


# --- definitions -------------------------------------------------------------------------


def test_required_fields_are_in_estimate_order():
    assert required_fields(RiceModel()) == ("customer_impact", "reach", "confidence", "effort")
    assert required_fields(RoiModel()) == ("cost", "annual_benefit")
    assert required_fields(ValueEffortModel(value_field="risk_reduction", effort_field="cost")) == (
        "cost",
        "risk_reduction",
    )
    assert required_fields(CustomModel(formula="effort + reach * reach")) == ("reach", "effort")


def test_definitions_decode_from_json_and_encode_back():
    raw = b'{"kind": "weighted", "criteria": [{"field": "reach", "weight": 1, "scaleMin": 0, "scaleMax": 10}]}'
    decoded = msgspec.json.decode(raw, type=ScoringModel)
    assert decoded == WeightedModel(criteria=(Criterion(field="reach", weight=1.0, scale_min=0.0, scale_max=10.0),))
    for definition in (
        decoded,
        RiceModel(),
        WsjfModel(),
        IceModel(reference_effort=5),
        ValueEffortModel(effort_field="cost"),
        RoiModel(horizon_years=2),
        CustomModel(formula="reach / effort"),
    ):
        assert model(msgspec.to_builtins(definition)) == definition
    assert msgspec.to_builtins(IceModel()) == {"kind": "ice", "referenceEffort": 10.0}
    assert msgspec.to_builtins(ValueEffortModel()) == {
        "kind": "value_effort",
        "valueField": "annual_benefit",
        "effortField": "effort",
    }


@pytest.mark.parametrize(
    "definition",
    [
        {"kind": "rice", "extra": 1},
        {"kind": "magic"},
        {"kind": "value_effort", "effortField": "reach"},
        {"kind": "weighted", "criteria": [{"field": "reach", "weight": 1, "colour": "red"}]},
    ],
)
def test_unknown_shapes_are_rejected_by_msgspec(definition):
    with pytest.raises(msgspec.ValidationError):
        model(definition)


@pytest.mark.parametrize(
    ("definition", "field", "message"),
    [
        ({"kind": "weighted", "criteria": []}, "criteria", "a weighted model needs at least one criterion"),
        (
            {"kind": "weighted", "criteria": [{"field": "reach", "weight": 1}, {"field": "reech", "weight": 1}]},
            "criteria[1].field",
            "unknown estimate 'reech'",
        ),
        (
            {"kind": "weighted", "criteria": [{"field": "reach", "weight": 1}, {"field": "reach", "weight": 2}]},
            "criteria[1].field",
            "'reach' appears twice",
        ),
        (
            {"kind": "weighted", "criteria": [{"field": "reach", "weight": 1, "scaleMin": 0}]},
            "criteria[0].scaleMin",
            "scaleMin and scaleMax go together",
        ),
        (
            {"kind": "weighted", "criteria": [{"field": "reach", "weight": 1, "scaleMin": 5, "scaleMax": 5}]},
            "criteria[0].scaleMax",
            "must be above scaleMin",
        ),
        ({"kind": "ice", "referenceEffort": 0}, "referenceEffort", "must be a finite number above 0"),
        ({"kind": "roi", "horizonYears": -1}, "horizonYears", "must be a finite number above 0"),
        ({"kind": "value_effort", "valueField": "colour"}, "valueField", "unknown estimate 'colour'"),
        ({"kind": "value_effort", "valueField": "cost", "effortField": "cost"}, "valueField", "must differ"),
        ({"kind": "custom", "formula": "(reach + 1 * 2"}, "formula", "expected ')' at column 15"),
        ({"kind": "custom", "formula": "reech"}, "formula", "unknown name 'reech' at column 1; allowed: "),
    ],
)
def test_broken_invariants_name_the_field(definition, field, message):
    with pytest.raises(DomainError) as caught:
        model(definition)
    assert caught.value.field == field
    assert caught.value.message.startswith(message)


def test_non_finite_weights_are_rejected():
    with pytest.raises(DomainError) as caught:
        WeightedModel(criteria=(Criterion(field="reach", weight=math.inf),))
    assert caught.value.field == "criteria[0].weight"


# --- absoluteness ------------------------------------------------------------------------

_number = st.one_of(st.none(), st.floats(0, 10))
estimates_strategy = st.builds(
    Estimates,
    customer_impact=_number,
    reach=st.one_of(st.none(), st.floats(0, 1e6)),
    confidence=st.one_of(st.none(), st.floats(0, 1)),
    effort=st.dictionaries(st.sampled_from(["web", "app", "data"]), st.floats(0, 100), max_size=3),
    cost=st.one_of(st.none(), st.floats(0, 1e7)),
    annual_benefit=st.one_of(st.none(), st.floats(0, 1e7)),
    time_criticality=_number,
    risk_reduction=_number,
)
MODELS = (
    RiceModel(),
    WsjfModel(),
    IceModel(),
    ValueEffortModel(),
    RoiModel(horizon_years=3),
    WeightedModel(
        criteria=(
            Criterion(field="customer_impact", weight=2),
            Criterion(field="reach", weight=1, scale_min=0, scale_max=1e6),
            Criterion(field="effort", weight=-0.5),
        )
    ),
    CustomModel(formula="sqrt(reach) * customer_impact - effort / 2 + max(cost, annual_benefit) / 1000"),
)


@settings(max_examples=150, deadline=None)
@given(estimates_strategy, st.lists(estimates_strategy, max_size=20))
def test_a_score_depends_only_on_the_idea_and_the_model(idea, others):
    for scoring_model in MODELS:
        alone = score_idea(scoring_model, idea)
        for other in others:
            score_idea(scoring_model, other)
        again = score_idea(scoring_model, msgspec.structs.replace(idea))
        assert again == alone
        if isinstance(alone, Scored):
            assert math.isfinite(alone.value)
            assert sum(part.contribution for part in alone.breakdown) == alone.value
        else:
            assert set(alone.missing) <= set(ESTIMATE_FIELDS)
            assert alone.missing == tuple(
                name for name in required_fields(scoring_model) if idea.value_of(name) is None
            )
