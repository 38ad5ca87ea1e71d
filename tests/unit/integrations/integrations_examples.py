"""Example inputs the integrations unit tests share: a portfolio, the stand-in's mapping, an idea."""

from __future__ import annotations

from services.integrations.payloads import JiraMapping
from services.integrations.planned import Contribution, PlannedIdea

PORTFOLIO = "3f2a9c1e-7b44-4d0a-9e61-2b8f0c5d7a10"
# The stand-in's components and custom fields: 10050 is a text field, 10051 a number.
MAPPING = JiraMapping(
    labels=("roadmap",), components=("Backend",), score_field="customfield_10051", phase_field="customfield_10050"
)
IDEA = PlannedIdea(
    ref="IDEA-7",
    title="Self-service refunds",
    phase="2027-h1",
    rank=3,
    score=71.5,
    model="WSJF",
    breakdown=(
        Contribution(criterion="customer_impact", contribution=40.0),
        Contribution(criterion="reach", contribution=31.5),
    ),
    persona="Busy parent",
    journey_stage="After purchase",
    touchpoint="Mobile app",
    pain_point="Refunds need a phone call",
    cost=12_000.0,
)
