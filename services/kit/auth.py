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
from functools import lru_cache
from typing import Any

import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware

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
    now = int(time.time())
    claims = {
        "sub": subject,
        settings.roles_claim: sorted(Role(role).value for role in roles),
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + (settings.token_ttl_seconds if ttl_seconds is None else ttl_seconds),
    }
    if groups:
        claims[settings.groups_claim] = sorted(groups)
    return jwt.encode(claims, settings.signing_key, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300)


def verify_token(settings: AuthSettings, token: str) -> Caller:
    """Check signature, issuer, audience and expiry; return the caller or raise Unauthorized."""
    try:
        if settings.jwks_url:
            key: Any = _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token).key
        else:
            key = settings.signing_key
        claims = jwt.decode(
            token,
            key,
            algorithms=list(settings.algorithms),
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired.") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"The token is not valid: {type(exc).__name__}.") from None
    raw_roles = claims.get(settings.roles_claim, [])
    if isinstance(raw_roles, str):
        raw_roles = raw_roles.split()
    roles = frozenset(Role(role) for role in raw_roles if role in Role._value2member_map_)
    raw_groups = claims.get(settings.groups_claim, [])
    if isinstance(raw_groups, str):
        raw_groups = raw_groups.split()
    groups = frozenset(group for group in raw_groups if isinstance(group, str) and group)
    return Caller(subject=str(claims["sub"]), roles=roles, groups=groups)


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: Any, settings: AuthSettings, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.settings = settings

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send a bearer token in the Authorization header.")
        caller = verify_token(self.settings, token.strip())
        return AuthenticationResult(user=caller, auth=token)


def auth_middleware(settings: AuthSettings) -> DefineMiddleware:
    """The middleware a service app installs; public paths skip it."""
    return DefineMiddleware(BearerAuthMiddleware, settings=settings, exclude=list(PUBLIC_PATH_PATTERNS))
