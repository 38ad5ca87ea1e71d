"""The read cache's rules, without a database: generation, staleness, and its byte budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from litestar.serialization import encode_json

from services.kit.read_cache import ReadCache, earliest_fresh
from services.kit.settings import Settings, SettingsError
from services.scoring.formulas import Contribution
from services.scoring.hot_reads import _encode
from services.scoring.schemas import QuadrantThresholds, RankedIdea, RankingOut

NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_an_answer_is_served_only_at_the_generation_it_was_encoded_at():
    cache = ReadCache(1000)
    cache.put("page", b"old", generation=3, fresh_since=None)
    assert cache.get("page", generation=3, cutoff=None) == b"old"
    assert cache.get("page", generation=4, cutoff=None) is None
    # Dropped once out of date: the old generation does not bring it back.
    assert cache.get("page", generation=3, cutoff=None) is None
    assert len(cache) == 0 and cache.size_bytes == 0
    assert (cache.hits, cache.misses) == (1, 2)


def test_an_answer_showing_a_fresh_estimate_is_dropped_once_the_cutoff_passes_it():
    cache = ReadCache(1000)
    cache.put("page", b"body", generation=1, fresh_since=NOON)
    assert cache.get("page", generation=1, cutoff=NOON - timedelta(seconds=1)) == b"body"
    assert cache.get("page", generation=1, cutoff=NOON) == b"body"  # made at the cutoff: not stale yet
    assert cache.get("page", generation=1, cutoff=NOON + timedelta(microseconds=1)) is None


def test_the_earliest_fresh_estimate_ignores_stale_and_missing_ones():
    estimates = [NOON - timedelta(days=40), None, NOON, NOON - timedelta(days=3)]
    assert earliest_fresh(estimates, NOON - timedelta(days=30)) == NOON - timedelta(days=3)
    assert earliest_fresh(estimates, None) is None  # no cadence: nothing ever turns stale
    assert earliest_fresh([NOON - timedelta(days=40)], NOON) is None


def test_the_budget_keeps_the_most_recently_used_answers():
    cache = ReadCache(80)
    for key in "abcd":
        cache.put(key, b"x" * 10, generation=1, fresh_since=None)
    assert cache.get("a", generation=1, cutoff=None)  # a is now the most recently used
    for key in "efgh":
        cache.put(key, b"x" * 10, generation=1, fresh_since=None)
    cache.put("i", b"x" * 10, generation=1, fresh_since=None)
    assert cache.size_bytes == 80 and len(cache) == 8
    assert cache.get("b", generation=1, cutoff=None) is None  # the least recently used went first
    assert cache.get("a", generation=1, cutoff=None) == b"x" * 10


def test_an_answer_larger_than_its_share_of_the_budget_is_not_kept_and_zero_keeps_nothing():
    cache = ReadCache(80)
    cache.put("big", b"x" * 11, generation=1, fresh_since=None)
    assert cache.get("big", generation=1, cutoff=None) is None
    off = ReadCache(0)
    off.put("page", b"x", generation=1, fresh_since=None)
    assert off.get("page", generation=1, cutoff=None) is None and off.size_bytes == 0


def test_a_replaced_answer_is_counted_once():
    cache = ReadCache(100)
    cache.put("page", b"x" * 10, generation=1, fresh_since=None)
    cache.put("page", b"y" * 5, generation=2, fresh_since=None)
    assert cache.size_bytes == 5 and cache.get("page", generation=2, cutoff=None) == b"y" * 5


def test_kept_answers_are_the_bytes_litestar_would_have_sent():
    page = RankingOut(
        model_id=UUID(int=1),
        model_name="RICE ü",
        model_version=2,
        model_version_id=UUID(int=2),
        items=[
            RankedIdea(
                rank=1, ref="A-1", title="Faster <onboarding>", score=0.69, missing=[], reason=None,
                breakdown=[Contribution("reach", {"reach": 1000.0}, 0.1 + 0.2)], persona="Busy parent",
                journey_stage=None, touchpoint="app", stale=True, insufficient_input=False, warning=None,
                disagreement=1.5, quadrant="quickWin",
            )
        ],
        total=1, scored=1, unscored=0, page=1, page_size=50, next_cursor=None,
        quadrants=QuadrantThresholds(value=0.5, effort=10_000.0, effort_field="cost", from_median=["value"]),
    )  # fmt: skip
    assert _encode(page) == encode_json(page)


def test_the_cache_size_is_a_setting_and_a_negative_one_is_refused():
    secret = {"ROADMAP_JWT_SECRET": "s" * 40}
    assert Settings.from_env(secret).read_cache_mb == 32
    assert Settings.from_env({**secret, "ROADMAP_READ_CACHE_MB": "0"}).read_cache_mb == 0
    for bad in ("-1", "65537", "many"):
        with pytest.raises(SettingsError, match="ROADMAP_READ_CACHE_MB"):
            Settings.from_env({**secret, "ROADMAP_READ_CACHE_MB": bad})
