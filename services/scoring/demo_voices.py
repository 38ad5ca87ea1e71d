"""Who answers for the demo's ideas, how they are measured, and what the departments said.

Northwind Bank gave each idea an owner in the department that delivers it (two ideas still
have none, so the demo shows `withoutOwner`), measured outcomes for a dozen of them, and asked
five departments to rate the Improve candidates in a workshop: two customer-facing (branches,
contact centre) and three that rarely meet a customer. Their views differ on purpose: the
disagreement view of the ranking has something to show.

Data only; `services.scoring.demo` does the seeding.
"""

from __future__ import annotations

from typing import Final

from services.scoring.accountability import Kpi, Owner
from services.scoring.ratings import Department

DEMO_DEPARTMENTS: Final = (
    Department(key="branches", name="Branch network", customer_facing=True, weight=1.0),
    Department(key="contact-centre", name="Contact centre", customer_facing=True, weight=1.0),
    Department(key="digital", name="Digital channels", customer_facing=False, weight=1.0),
    Department(key="finance", name="Finance", customer_facing=False, weight=1.0),
    Department(key="risk", name="Fraud & risk", customer_facing=False, weight=0.5),
)

_OWNERS: Final = {
    "Branch Network": Owner(subject="demo-owner-branches", name="Grace Mensah", email="grace.mensah@northwind.example", department="Branch Network"),
    "Business Banking": Owner(subject="demo-owner-business", name="Luis Ortega", email="luis.ortega@northwind.example", department="Business Banking"),
    "Cards & Payments": Owner(subject="demo-owner-cards", name="Hannah Berg", email="hannah.berg@northwind.example", department="Cards & Payments"),
    "Customer Service": Owner(subject="demo-owner-service", name="Tom Okafor", email="tom.okafor@northwind.example", department="Customer Service"),
    "Digital Channels": Owner(subject="demo-owner-digital", name="Mei Lin", email="mei.lin@northwind.example", department="Digital Channels"),
    "Fraud & Security": Owner(subject="demo-owner-fraud", name="Sam Riley", email="sam.riley@northwind.example", department="Fraud & Security"),
    "Lending": Owner(subject="demo-owner-lending", name="Priya Shah", email="priya.shah@northwind.example", department="Lending"),
    "Marketing": Owner(subject="demo-owner-marketing", name="Jonas Weber", email="jonas.weber@northwind.example", department="Marketing"),
    "Savings & Investments": Owner(subject="demo-owner-savings", name="Ana Costa", email="ana.costa@northwind.example", department="Savings & Investments"),
}  # fmt: skip
UNOWNED: Final = frozenset({"CJ-33", "CJ-36"})
"""Ideas nobody owns yet: a scenario planning them says so."""


def owner_of(ref: str, department: str | None) -> Owner | None:
    """The demo owner of an idea: the head of its department's delivery, unless it has none yet."""
    return None if ref in UNOWNED or department is None else _OWNERS.get(department)


def _kpi(key: str, name: str, unit: str, baseline: float, target: float) -> Kpi:
    return Kpi(key=key, name=name, unit=unit, direction="increase" if target >= baseline else "decrease",
               baseline=baseline, target=target)  # fmt: skip


_CALLS = ("calls", "Avoidable calls", "calls/month")
_NPS = ("nps", "Net promoter score", "points")
DEMO_KPIS: Final[dict[str, tuple[Kpi, ...]]] = {
    "CJ-06": (_kpi("complaints", "Fee complaints", "complaints/month", 140, 60), _kpi(*_NPS, 22, 26)),
    "CJ-08": (_kpi("fraud-loss", "Card fraud losses", "EUR/month", 38_000, 30_000),),
    "CJ-09": (_kpi(*_CALLS, 9_000, 7_500), _kpi("abandon", "Abandoned calls", "%", 14, 6)),
    "CJ-10": (_kpi("activation", "Accounts used in the first month", "%", 61, 75),),
    "CJ-11": (_kpi("appointments", "Mortgage appointments booked", "per month", 420, 600),),
    "CJ-13": (_kpi(*_CALLS, 2_000, 1_400), _kpi(*_NPS, 18, 24)),
    "CJ-14": (_kpi("overdraft-fees", "Overdraft fees refunded", "EUR/month", 52_000, 30_000), _kpi(*_NPS, 22, 25)),
    "CJ-15": (_kpi(*_CALLS, 1_100, 800),),
    "CJ-19": (_kpi("complaints", "Loan cost complaints", "complaints/month", 45, 20),),
    "CJ-22": (_kpi(*_CALLS, 6_000, 4_800), _kpi("handle-time", "Average handling time", "minutes", 7.5, 6)),
    "CJ-24": (_kpi(*_CALLS, 3_200, 1_500),),
    "CJ-26": (_kpi("joint-accounts", "Partners added online", "per month", 0, 900),),
}
"""Measured outcomes of the ideas that have them (the practice's MBOs)."""

DEMO_STAKEHOLDER_MODEL: Final = (
    "Stakeholder voices",
    {
        "kind": "stakeholder",
        "criteria": [{"criterion": "customerValue", "weight": 0.7}, {"criterion": "feasibility", "weight": 0.3}],
        "minCustomerFacing": 2,
    },
)

# idea -> department -> criterion -> the values its raters gave (0..10).
_VIEWS: Final[dict[str, dict[str, dict[str, tuple[float, ...]]]]] = {
    "CJ-06": {"branches": {"customerValue": (8, 7)}, "contact-centre": {"customerValue": (9,), "feasibility": (7,)},
              "digital": {"customerValue": (6,), "feasibility": (8,)}, "finance": {"customerValue": (4,), "feasibility": (6,)}},
    "CJ-08": {"branches": {"customerValue": (6,)}, "contact-centre": {"customerValue": (8,), "feasibility": (8,)},
              "digital": {"customerValue": (7,), "feasibility": (9,)}, "risk": {"customerValue": (9,), "feasibility": (9,)}},
    "CJ-09": {"branches": {"customerValue": (5,)}, "contact-centre": {"customerValue": (9, 10, 8), "feasibility": (6,)},
              "finance": {"customerValue": (7,), "feasibility": (7,)}, "digital": {"feasibility": (5,)}},
    "CJ-11": {"branches": {"customerValue": (9, 8), "feasibility": (8,)}, "contact-centre": {"customerValue": (6,)},
              "digital": {"customerValue": (5,), "feasibility": (7,)}, "finance": {"customerValue": (8,)}},
    "CJ-13": {"contact-centre": {"customerValue": (9,), "feasibility": (4,)}, "digital": {"customerValue": (7,), "feasibility": (5,)},
              "finance": {"customerValue": (3,)}, "branches": {"customerValue": (6,)}},
    "CJ-14": {"branches": {"customerValue": (9,)}, "contact-centre": {"customerValue": (9,), "feasibility": (8,)},
              "finance": {"customerValue": (2,), "feasibility": (7,)}, "risk": {"customerValue": (5,)}},
    "CJ-15": {"branches": {"customerValue": (7,), "feasibility": (9,)}, "finance": {"customerValue": (6,), "feasibility": (8,)},
              "digital": {"customerValue": (4,)}},
    "CJ-24": {"contact-centre": {"customerValue": (8,), "feasibility": (6,)}, "digital": {"customerValue": (8,), "feasibility": (6,)},
              "risk": {"customerValue": (4,), "feasibility": (5,)}, "branches": {"customerValue": (7,)}},
    "CJ-26": {"branches": {"customerValue": (3,), "feasibility": (4,)}, "contact-centre": {"customerValue": (5,)},
              "digital": {"customerValue": (9,), "feasibility": (8,)}, "risk": {"customerValue": (2,), "feasibility": (3,)}},
}  # fmt: skip


def demo_ratings() -> list[tuple[str, str, str, str, float]]:
    """(idea ref, criterion, rater subject, department, value) of the workshop's ratings.

    A department's first rater is `demo-stakeholder` for the contact centre (the printed token's
    subject), otherwise a named colleague; further raters of a department are numbered.
    """
    ratings = []
    for ref, departments in _VIEWS.items():
        for department, criteria in departments.items():
            for criterion, values in criteria.items():
                for index, value in enumerate(values):
                    subject = (
                        "demo-stakeholder"
                        if (department, index) == ("contact-centre", 0)
                        else f"{department}-{index + 1}@northwind.example"
                    )
                    ratings.append((ref, criterion, subject, department, float(value)))
    return ratings
