"""The memory of verified tokens: a token skips its second signature check only as the same
text, before its expiry and within the horizon (issue 14)."""

from __future__ import annotations

import pytest

from services.kit.auth import Role, VerifiedTokens, mint_token, verify_token
from services.kit.settings import AuthSettings

pytestmark = pytest.mark.unit

AUTH = AuthSettings(signing_key="k" * 40)


def test_a_verified_token_is_remembered_as_its_exact_text_only():
    verified = VerifiedTokens()
    token = mint_token(AUTH, subject="ann@example.com", roles=["viewer"])
    verified.put(token, verify_token(AUTH, token))
    remembered = verified.get(token)
    assert remembered is not None and remembered.subject == "ann@example.com" and remembered.roles == {Role.VIEWER}
    assert verified.get(token[:-1] + ("A" if token[-1] != "A" else "B")) is None  # another signature
    assert verified.get(mint_token(AUTH, subject="ann@example.com", roles=["admin"])) is None


def test_a_token_past_its_expiry_or_the_horizon_is_checked_again():
    token = mint_token(AUTH, subject="ann@example.com", roles=["viewer"])
    caller = verify_token(AUTH, token)
    expired = mint_token(AUTH, subject="bob@example.com", roles=["viewer"], ttl_seconds=-1)
    verified = VerifiedTokens()
    verified.put(expired, caller)  # as if it had verified a moment before it expired
    assert verified.get(expired) is None
    no_horizon = VerifiedTokens(horizon_seconds=-1)
    no_horizon.put(token, caller)
    assert no_horizon.get(token) is None


def test_the_memory_is_bounded_and_forgets_the_oldest():
    verified = VerifiedTokens(size=2)
    tokens = [mint_token(AUTH, subject=f"user{n}@example.com", roles=["viewer"]) for n in range(3)]
    for token in tokens:
        verified.put(token, verify_token(AUTH, token))
    assert verified.get(tokens[0]) is None
    assert verified.get(tokens[1]) is not None and verified.get(tokens[2]) is not None
