"""`roadmap serve` freezes what it built before serving, so full collections skip it (issue 14)."""

from __future__ import annotations

import gc

import pytest

from services.cli import settle_heap

pytestmark = pytest.mark.unit


def test_settling_the_heap_takes_what_was_built_out_of_collections():
    built = [[] for _ in range(1000)]  # lists: objects the collector tracks
    try:
        settle_heap()
        assert gc.get_freeze_count() >= len(built)
    finally:
        gc.unfreeze()
