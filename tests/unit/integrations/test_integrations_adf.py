"""Descriptions and comments are Atlassian Document Format that the vendored ADF schema accepts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from integrations_examples import IDEA
from integrations_schemas import adf_errors

from services.integrations import adf
from services.integrations.planned import Contribution, PlannedIdea, PlannedPhase

pytestmark = pytest.mark.unit


def _texts(node):
    if isinstance(node, dict):
        if node.get("type") == "text":
            yield node["text"]
        for child in node.get("content", []):
            yield from _texts(child)


def test_an_idea_description_carries_the_journey_and_the_score_breakdown():
    idea = IDEA
    document = adf.idea_description(idea)
    assert adf_errors(document) == []
    words = list(_texts(document))
    for expected in (
        "Busy parent",
        "After purchase",
        "Mobile app",
        "Refunds need a phone call",
        "customer_impact",
        "40.00",
        "31.50",
        "71.50",
        "WSJF",
        "IDEA-7",
    ):
        assert expected in words
    tables = [block for block in document["content"] if block["type"] == "table"]
    assert len(tables) == 1 and len(tables[0]["content"]) == 4  # header, two criteria, total


def test_an_idea_with_nothing_optional_still_gives_valid_adf():
    document = adf.idea_description(PlannedIdea(ref="a", title="A", phase="p", rank=1, persona="  "))
    assert adf_errors(document) == []
    assert "not scored" in list(_texts(document))
    assert all(block["type"] != "bulletList" for block in document["content"])


@pytest.mark.parametrize("budget", [0.0, 50_000.0])
def test_an_epic_description_states_budget_and_spend(budget):
    document = adf.epic_description(PlannedPhase(key="q1", label="Q1", budget=budget, spend=41_000.0), "EUR")
    assert adf_errors(document) == []
    assert "41,000.00 EUR" in list(_texts(document))


def test_the_unplanned_comment_is_valid_adf_naming_the_idea():
    for document in (adf.unplanned_comment("IDEA-7"), adf.unplanned_comment("IDEA-7", plan_name="2027 roadmap v2")):
        assert adf_errors(document) == []
        assert any("IDEA-7" in t for t in _texts(document))


def test_the_schema_check_rejects_an_empty_text_node():
    # Guards the guard: Jira refuses empty text, and so must the validator the tests rely on.
    assert adf_errors(adf.doc(adf.paragraph({"type": "text", "text": ""}))) != []


_optional_text = st.one_of(st.none(), st.text(max_size=30))
_number = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)


# The ADF schema is large and full of anyOf, so each validation is slow: fewer examples, no deadline.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(min_size=1, max_size=50).filter(str.strip),
    ref=st.text(min_size=1, max_size=20).filter(str.strip),
    rank=st.integers(min_value=1, max_value=10_000),
    score=st.one_of(st.none(), _number),
    model=_optional_text,
    breakdown=st.lists(st.builds(Contribution, criterion=st.text(max_size=20), contribution=_number), max_size=5),
    persona=_optional_text,
    stage=_optional_text,
    touchpoint=_optional_text,
    pain=_optional_text,
    cost=st.one_of(st.none(), _number),
)
def test_any_idea_gives_valid_adf(title, ref, rank, score, model, breakdown, persona, stage, touchpoint, pain, cost):
    idea = PlannedIdea(
        ref=ref,
        title=title,
        phase="p",
        rank=rank,
        score=score,
        model=model,
        breakdown=tuple(breakdown),
        persona=persona,
        journey_stage=stage,
        touchpoint=touchpoint,
        pain_point=pain,
        cost=cost,
    )
    assert adf_errors(adf.idea_description(idea)) == []
