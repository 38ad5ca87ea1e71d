"""How scores and contributions are shown (score_types.py): at ten significant digits, whether one
at a time, a page at once, or stored with the score as the breakdown's JSON (issue 14)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import msgspec

from services.scoring.review_rules import from_micros, micros
from services.scoring.score_types import Contribution, shown, shown_all, shown_breakdown_json


def same(a: float | None, b: float | None) -> bool:
    return repr(a) == repr(b)  # tells -0.0 from 0.0, and NaN equals itself


def test_a_page_of_values_is_shown_as_each_one_is():
    rng = random.Random(14)
    values = [None, 0.0, -0.0, 1e-300, 0.1 + 0.2, 1e22, -5.5, math.inf, -math.inf, math.nan, 2.5e-7]
    values += [rng.uniform(-1e6, 1e6) for _ in range(2000)]
    values += [rng.random() * 10 ** rng.randint(-30, 30) for _ in range(2000)]
    values.insert(7, None)
    together = shown_all(values)
    assert len(together) == len(values)
    assert all(same(a, shown(b)) for a, b in zip(together, values, strict=True))
    assert shown(0.1 + 0.2) == 0.3 and shown_all([]) == []


def test_a_stored_breakdown_shows_its_contributions_rounded_and_keeps_the_rest():
    parts = [Contribution("reach", {"reach": 3.0, "impact": 0.23}, 0.23 + 0.46), Contribution("x", {}, -1.5)]
    shown_json = shown_breakdown_json(msgspec.json.encode(parts).decode())
    assert msgspec.json.decode(shown_json) == [
        {"criterion": "reach", "inputs": {"reach": 3.0, "impact": 0.23}, "contribution": 0.69},
        {"criterion": "x", "inputs": {}, "contribution": -1.5},
    ]


def test_an_estimate_time_goes_to_microseconds_and_back_exactly():
    moments = [datetime(1970, 1, 1, tzinfo=UTC), datetime(2026, 12, 8, 1, 2, 3, 999_999, tzinfo=UTC)]
    moments.append(datetime(1969, 7, 20, 20, 17, 40, 1, tzinfo=UTC))
    for at in moments:
        assert from_micros(micros(at)) == at
    later = moments[1] + timedelta(microseconds=1)
    assert micros(later) - micros(moments[1]) == 1
