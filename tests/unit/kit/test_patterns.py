"""Whole-value patterns: no trailing newline slips through msgspec, and JSON Schema reads the same."""

from __future__ import annotations

import re

import msgspec
import pytest

from services.integrations.payloads import idea_label
from services.integrations.schemas import ProjectKey
from services.kit.patterns import whole
from services.scoring.schemas import Currency, Ref

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("kind", "good"), [(Currency, "EUR"), (Ref, "I-17"), (ProjectKey, "PROJ")])
def test_a_value_with_a_final_newline_is_refused(kind, good):
    assert msgspec.convert(good, kind) == good
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(good + "\n", kind)


def test_whole_matches_the_entire_text_only():
    pattern = re.compile(whole(r"[A-Z]{3}"))
    assert pattern.search("EUR") and not pattern.search("EUR\n") and not pattern.search("EURO")
    assert not pattern.search("xEUR")


def test_a_ref_with_a_final_newline_still_gets_a_valid_label():
    label = idea_label("3f0c2a77-0000-0000-0000-000000000000", "0\n")
    assert not any(c.isspace() for c in label) and label != idea_label("3f0c2a77-0000-0000-0000-000000000000", "0")
