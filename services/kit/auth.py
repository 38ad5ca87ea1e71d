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


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: Any, settings: AuthSettings, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.settings = settings

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send a bearer token in the Authorization header.")
        caller = await authenticate(self.settings, token.strip())
        return AuthenticationResult(user=caller, auth=token)


def auth_middleware(settings: AuthSettings) -> DefineMiddleware:
    """The middleware a service app installs; public paths skip it."""
    return DefineMiddleware(BearerAuthMiddleware, settings=settings, exclude=list(PUBLIC_PATH_PATTERNS))
