"""Bearer JWT authentication: who is calling.

The middleware only establishes who the caller is. What the caller may do is decided per
portfolio by its memberships (services/kit/access); of the token's roles only `admin`
(everything, everywhere) and `programme_manager` (may create portfolios) count. Health,
metrics and the OpenAPI documents are public.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable
from typing import Any

import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware

from services.kit import jwks
from services.kit.problems import Unauthorized
from services.kit.settings import AuthSettings


class Role(enum.StrEnum):
    """Roles a token may carry. Only `admin` and `programme_manager` mean anything on their own."""

    VIEWER = "viewer"
    STAKEHOLDER = "stakeholder"
    PROGRAMME_MANAGER = "programme_manager"
    LEADER = "leader"
    DELIVERY = "delivery"
    ADMIN = "admin"


# Jira's webhook deliveries carry no bearer token: they are verified by their HMAC signature.
PUBLIC_PATH_PATTERNS = (r"^/health/", r"^/metrics$", r"^/[a-z]+/schema(/|$)", r"^/integrations/webhooks/")


class Caller(msgspec.Struct, frozen=True):
    """Who is calling, as the verified token says."""

    subject: str
    roles: frozenset[Role]
    # The identity provider's groups (the claim `ROADMAP_JWT_GROUPS_CLAIM` names): portfolio
    # memberships can be granted to a group instead of to each subject.
    groups: frozenset[str] = frozenset()


def mint_token(
    settings: AuthSettings,
    *,
    subject: str,
    roles: Iterable[str],
    groups: Iterable[str] = (),
    ttl_seconds: int | None = None,
) -> str:
    """A signed HS256 token for the embedded default and for tests (groups as an identity provider sends them)."""
    if not settings.signing_key:
        raise ValueError("no local signing key: tokens come from the identity provider")
    ttl = settings.token_ttl_seconds if ttl_seconds is None else ttl_seconds
    if ttl > settings.max_lifetime_seconds:
        raise ValueError(
            f"a token may live at most {settings.max_lifetime_seconds} s (ROADMAP_JWT_MAX_LIFETIME_SECONDS)"
        )
    now = int(time.time())
    claims = {
        "sub": subject,
        settings.roles_claim: sorted(Role(role).value for role in roles),
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + ttl,
    }
    if groups:
        claims[settings.groups_claim] = sorted(groups)
    return jwt.encode(claims, settings.signing_key, algorithm="HS256")


def verify_token(settings: AuthSettings, token: str, *, key: Any = None) -> Caller:
    """Check signature, issuer, audience, expiry and lifetime; return the caller or raise Unauthorized.

    `key` is the identity provider's key for this token (services/kit/jwks.py); without one the
    local signing key is used.
    """
    try:
        claims = jwt.decode(
            token,
            key if key is not None else settings.signing_key,
            algorithms=list(settings.algorithms),
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired.") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"The token is not valid: {type(exc).__name__}.") from None
    _check_lifetime(settings, claims)
    return Caller(
        subject=str(claims["sub"]),
        roles=frozenset(Role(role) for role in _names(claims, settings.roles_claim) if role in Role._value2member_map_),
        groups=frozenset(group for group in _names(claims, settings.groups_claim) if group),
    )


def _check_lifetime(settings: AuthSettings, claims: dict[str, Any]) -> None:
    # A stolen long-lived token is a standing key to the system: whatever signed it, a token
    # meant to live longer than the operator allows is refused. Without `iat` the lifetime
    # still ahead counts.
    issued = claims.get("iat")
    lifetime = claims["exp"] - (issued if isinstance(issued, int | float) else time.time())
    if lifetime > settings.max_lifetime_seconds:
        raise Unauthorized(
            f"The token is valid for {lifetime:.0f} s; this server accepts at most "
            f"{settings.max_lifetime_seconds} s (ROADMAP_JWT_MAX_LIFETIME_SECONDS)."
        )


def _names(claims: dict[str, Any], claim: str) -> list[str]:
    """A roles or groups claim as a list of names: absent, a space-separated string, or a list of strings.

    Anything else is refused rather than guessed at: `{"admin": 1}` must not read as admin.
    """
    value = claims.get(claim, [])
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise Unauthorized(f"The token's {claim!r} claim must be a list of strings.")


async def authenticate(settings: AuthSettings, token: str) -> Caller:
    """The caller a bearer token names, its key fetched from the identity provider when one is set."""
    key = None
    if settings.jwks_url:
        keys = jwks.key_set(
            settings.jwks_url,
            timeout_seconds=settings.jwks_timeout_seconds,
            min_refresh_seconds=settings.jwks_min_refresh_seconds,
        )
        key = await keys.key_for(token)
    return verify_token(settings, token, key=key)


class VerifiedTokens:
    """Tokens this process verified lately, with the caller each names.

    Checking a signature costs about as much as a whole health check (issue 14), and a client
    sends the same token with every request. A token is taken from here, without a second
    check, only as the exact same text, only before its `exp`, and only for `horizon_seconds`
    after it was verified: a key the identity provider withdraws stops being trusted within
    that horizon, about as soon as the key set would be fetched again anyway. Tokens that
    failed are not remembered. Bounded: the oldest entry goes when it is full.
    """

    def __init__(self, *, horizon_seconds: float = 60.0, size: int = 4096) -> None:
        self.horizon_seconds, self.size = horizon_seconds, size
        self._callers: dict[str, tuple[Caller, float]] = {}

    def get(self, token: str) -> Caller | None:
        found = self._callers.get(token)
        if found is None:
            return None
        caller, good_until = found
        if time.time() < good_until:
            return caller
        del self._callers[token]
        return None

    def put(self, token: str, caller: Caller) -> None:
        expires = _claims_unverified(token).get("exp")
        if not isinstance(expires, int | float):
            return
        if len(self._callers) >= self.size:
            del self._callers[next(iter(self._callers))]
        self._callers[token] = (caller, min(float(expires), time.time() + self.horizon_seconds))


def _claims_unverified(token: str) -> dict[str, Any]:
    # Only read for a token whose signature and claims were just verified.
    return jwt.decode(token, options={"verify_signature": False})


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: Any, settings: AuthSettings, verified: VerifiedTokens, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.settings, self.verified = settings, verified

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Send a bearer token in the Authorization header.")
        caller = self.verified.get(token)
        if caller is None:
            caller = await authenticate(self.settings, token)
            self.verified.put(token, caller)
        return AuthenticationResult(user=caller, auth=token)


def auth_middleware(settings: AuthSettings) -> DefineMiddleware:
    """The middleware a service app installs; public paths skip it. Litestar builds one
    middleware per route: they share the app's memory of verified tokens."""
    return DefineMiddleware(
        BearerAuthMiddleware, settings=settings, verified=VerifiedTokens(), exclude=list(PUBLIC_PATH_PATTERNS)
    )
