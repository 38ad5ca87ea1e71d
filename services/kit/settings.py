"""Settings, parsed once from the environment and passed down explicitly."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

import msgspec

PROJECT_ROOT = Path(__file__).resolve().parents[2]

_SECRET_FILE_NAME = "jwt-signing-key"


class SettingsError(Exception):
    """An environment variable holds a value the backend cannot use."""


class AuthSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How bearer tokens are verified.

    The embedded default signs HS256 tokens with a local key. With `jwks_url` set, tokens
    from the organisation's identity provider are verified against its published keys.
    """

    signing_key: str = ""
    # True when `signing_key` is the embedded default's own, made in the data folder: only
    # then may `roadmap serve --seed-demo` print tokens signed with it.
    local_key: bool = False
    issuer: str = "roadmap-local"
    audience: str = "roadmap"
    jwks_url: str | None = None
    algorithms: tuple[str, ...] = ("HS256",)
    roles_claim: str = "roles"
    groups_claim: str = "groups"
    token_ttl_seconds: int = 8 * 3600
    # Any token meant to live longer than this is refused, whoever signed it.
    max_lifetime_seconds: int = 24 * 3600
    # Fetching the identity provider's keys: how long one fetch may take, and how often at most.
    jwks_timeout_seconds: float = 3.0
    jwks_min_refresh_seconds: float = 30.0

    def __repr__(self) -> str:  # the signing key must never reach a log line
        return f"AuthSettings(issuer={self.issuer!r}, audience={self.audience!r}, jwks_url={self.jwks_url!r})"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a process needs to know about its surroundings."""

    database_url: str | None = None
    data_dir: Path = PROJECT_ROOT / ".data"
    host: str = "127.0.0.1"
    port: int = 8000
    auth: AuthSettings = AuthSettings()
    log_level: str = "INFO"
    max_body_bytes: int = 8 * 1024 * 1024
    db_pool_min: int = 1
    db_pool_max: int = 10
    db_command_timeout_seconds: float = 30.0
    # Each process keeps up to this many MiB of hot reads' encoded answers (kit/read_cache.py);
    # 0 turns the cache off.
    read_cache_mb: int = 32
    scoring_url: str | None = None
    roadmap_url: str | None = None
    integrations_url: str | None = None
    services_url: str | None = None
    # A picked job whose worker stopped heartbeating for this long is taken up again.
    job_retry_after_seconds: float = 30.0
    # On shutdown a worker lets running jobs finish for this long, then hands them back.
    job_stop_grace_seconds: float = 10.0
    # Jira: how long one call keeps retrying a refusal, then how a push waits out an outage
    # (first and longest wait between attempts) and how long an outage it waits out at most.
    jira_call_retry_seconds: float = 120.0
    jira_outage_first_wait_seconds: float = 30.0
    jira_outage_max_wait_seconds: float = 600.0
    jira_outage_give_up_seconds: float = 6 * 3600.0
    # How often workers read every pushed plan's issue statuses from Jira; None: never.
    delivery_refresh_seconds: float | None = None
    # Trust boundary of outbound calls and secrets (docs/security.md): where secret references
    # may point, the operator's exceptions to "public https only" for user-given URLs, and how
    # old a signed Jira webhook delivery may be.
    secrets_dir: Path = Path("/run/secrets")
    outbound_allowed_hosts: tuple[str, ...] = ()
    webhook_max_age_seconds: float = 300.0
    # Events to subscribers (services/kit/events): attempts per delivery, the first and longest
    # wait between attempts (doubling from one to the other), and how long one attempt may take.
    event_max_attempts: int = 8
    event_first_retry_seconds: float = 10.0
    event_max_retry_seconds: float = 3600.0
    event_timeout_seconds: float = 10.0
    # The outbox keeps a delivered event (and one given up on) this many days, then a periodic
    # job deletes it with its deliveries.
    events_retention_days: int = 14

    def __repr__(self) -> str:  # the database URL may carry a password
        return f"Settings(host={self.host!r}, port={self.port!r}, data_dir={str(self.data_dir)!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read `ROADMAP_*` variables (and `PORT`); unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("ROADMAP_DATA_DIR", str(PROJECT_ROOT / ".data")))
        jwks_url = env.get("ROADMAP_JWKS_URL") or None
        algorithms = tuple(
            name.strip()
            for name in env.get("ROADMAP_JWT_ALGORITHMS", "RS256" if jwks_url else "HS256").split(",")
            if name.strip()
        )
        max_lifetime = _int(env, "ROADMAP_JWT_MAX_LIFETIME_SECONDS", 24 * 3600)
        operator_key = _jwt_secret(env)
        auth = AuthSettings(
            signing_key=operator_key or ("" if jwks_url else _local_signing_key(data_dir)),
            local_key=not operator_key and not jwks_url,
            issuer=env.get("ROADMAP_JWT_ISSUER", "roadmap-local"),
            audience=env.get("ROADMAP_JWT_AUDIENCE", "roadmap"),
            jwks_url=jwks_url,
            algorithms=algorithms,
            roles_claim=env.get("ROADMAP_JWT_ROLES_CLAIM", "roles"),
            groups_claim=env.get("ROADMAP_JWT_GROUPS_CLAIM", "groups"),
            # Unset, development tokens live 8 hours, or less if the operator allows less.
            token_ttl_seconds=_int(env, "ROADMAP_TOKEN_TTL_SECONDS", min(8 * 3600, max_lifetime)),
            max_lifetime_seconds=max_lifetime,
            jwks_timeout_seconds=_float(env, "ROADMAP_JWKS_TIMEOUT_SECONDS", 3.0),
            jwks_min_refresh_seconds=_float(env, "ROADMAP_JWKS_MIN_REFRESH_SECONDS", 30.0),
        )
        if auth.max_lifetime_seconds <= 0:
            raise SettingsError("ROADMAP_JWT_MAX_LIFETIME_SECONDS must be a positive number of seconds")
        if auth.token_ttl_seconds > auth.max_lifetime_seconds:
            raise SettingsError("ROADMAP_TOKEN_TTL_SECONDS must not exceed ROADMAP_JWT_MAX_LIFETIME_SECONDS")
        return cls(
            database_url=env.get("ROADMAP_DATABASE_URL") or None,
            data_dir=data_dir,
            host=env.get("HOST", "127.0.0.1"),
            port=_int(env, "PORT", 8000),
            auth=auth,
            log_level=env.get("ROADMAP_LOG_LEVEL", "INFO").upper(),
            max_body_bytes=_int(env, "ROADMAP_MAX_BODY_BYTES", 8 * 1024 * 1024),
            db_pool_min=_int(env, "ROADMAP_DB_POOL_MIN", 1),
            db_pool_max=_int(env, "ROADMAP_DB_POOL_MAX", 10),
            read_cache_mb=_read_cache_mb(env),
            scoring_url=env.get("ROADMAP_SCORING_URL") or None,
            roadmap_url=env.get("ROADMAP_ROADMAP_URL") or None,
            integrations_url=env.get("ROADMAP_INTEGRATIONS_URL") or None,
            services_url=env.get("ROADMAP_SERVICES_URL") or None,
            job_retry_after_seconds=_float(env, "ROADMAP_JOB_RETRY_AFTER_SECONDS", 30.0),
            job_stop_grace_seconds=_float(env, "ROADMAP_JOB_STOP_GRACE_SECONDS", 10.0),
            **_jira_timings(env),
            **_trust_boundary(env),
            **_event_delivery(env),
        )


# HS256 with a shorter key can be brute-forced offline from any one token (RFC 7518 §3.2
# asks for a key at least as long as the hash: 32 bytes).
MIN_SECRET_BYTES = 32


def _jwt_secret(env: Mapping[str, str]) -> str:
    secret = env.get("ROADMAP_JWT_SECRET") or ""
    if secret and len(secret.encode()) < MIN_SECRET_BYTES:
        raise SettingsError(
            f"ROADMAP_JWT_SECRET is {len(secret.encode())} bytes; it must be at least {MIN_SECRET_BYTES} "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return secret


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _jira_timings(env: Mapping[str, str]) -> dict[str, float | None]:
    timings = {
        "jira_call_retry_seconds": _float(env, "ROADMAP_JIRA_CALL_RETRY_SECONDS", 120.0),
        "jira_outage_first_wait_seconds": _float(env, "ROADMAP_JIRA_OUTAGE_FIRST_WAIT_SECONDS", 30.0),
        "jira_outage_max_wait_seconds": _float(env, "ROADMAP_JIRA_OUTAGE_MAX_WAIT_SECONDS", 600.0),
        "jira_outage_give_up_seconds": _float(env, "ROADMAP_JIRA_OUTAGE_GIVE_UP_SECONDS", 6 * 3600.0),
    }
    if timings["jira_outage_first_wait_seconds"] > timings["jira_outage_max_wait_seconds"]:
        raise SettingsError(
            "ROADMAP_JIRA_OUTAGE_FIRST_WAIT_SECONDS must not exceed ROADMAP_JIRA_OUTAGE_MAX_WAIT_SECONDS"
        )
    return {**timings, "delivery_refresh_seconds": _refresh_seconds(env)}


def _refresh_seconds(env: Mapping[str, str]) -> float | None:
    """`ROADMAP_DELIVERY_REFRESH_SECONDS`: None when unset or 0 (the periodic refresh is off)."""
    name = "ROADMAP_DELIVERY_REFRESH_SECONDS"
    raw = (env.get(name) or "").strip()
    if raw in ("", "0"):
        return None
    try:
        seconds = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 < seconds < float("inf"):
        raise SettingsError(f"{name} must be a positive number of seconds (0 turns it off), got {raw!r}")
    return seconds


def _read_cache_mb(env: Mapping[str, str]) -> int:
    mib = _int(env, "ROADMAP_READ_CACHE_MB", 32)
    if not 0 <= mib <= 65_536:
        raise SettingsError(f"ROADMAP_READ_CACHE_MB must be between 0 (off) and 65536 MiB, got {mib}")
    return mib


def _event_delivery(env: Mapping[str, str]) -> dict[str, object]:
    attempts = _int(env, "ROADMAP_EVENT_MAX_ATTEMPTS", 8)
    if not 1 <= attempts <= 100:
        raise SettingsError(f"ROADMAP_EVENT_MAX_ATTEMPTS must be between 1 and 100, got {attempts}")
    first = _float(env, "ROADMAP_EVENT_FIRST_RETRY_SECONDS", 10.0)
    longest = _float(env, "ROADMAP_EVENT_MAX_RETRY_SECONDS", 3600.0)
    if first > longest:
        raise SettingsError("ROADMAP_EVENT_FIRST_RETRY_SECONDS must not exceed ROADMAP_EVENT_MAX_RETRY_SECONDS")
    retention = _int(env, "ROADMAP_EVENTS_RETENTION_DAYS", 14)
    if not 1 <= retention <= 3650:
        raise SettingsError(f"ROADMAP_EVENTS_RETENTION_DAYS must be between 1 and 3650 days, got {retention}")
    return {
        "events_retention_days": retention,
        "event_max_attempts": attempts,
        "event_first_retry_seconds": first,
        "event_max_retry_seconds": longest,
        "event_timeout_seconds": _float(env, "ROADMAP_EVENT_TIMEOUT_SECONDS", 10.0),
    }


# One allowed host: a name or dotted IPv4 address, or a bracketed IPv6 address, and an optional port.
_ALLOWED_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?|\[[0-9a-f:.]{2,45}\])(?::\d{1,5})?")


def _trust_boundary(env: Mapping[str, str]) -> dict[str, object]:
    hosts = tuple(h.strip().lower() for h in env.get("ROADMAP_OUTBOUND_ALLOWED_HOSTS", "").split(",") if h.strip())
    for host in hosts:
        if not _ALLOWED_HOST.fullmatch(host):
            raise SettingsError(
                f"ROADMAP_OUTBOUND_ALLOWED_HOSTS lists {host!r}: give host or host:port, comma-separated"
            )
    secrets_dir = env.get("ROADMAP_SECRETS_DIR") or "/run/secrets"
    if not Path(secrets_dir).is_absolute():
        raise SettingsError(f"ROADMAP_SECRETS_DIR must be an absolute path, got {secrets_dir!r}")
    return {
        "secrets_dir": Path(os.path.normpath(secrets_dir)),
        "outbound_allowed_hosts": hosts,
        "webhook_max_age_seconds": _float(env, "ROADMAP_WEBHOOK_MAX_AGE_SECONDS", 300.0),
    }


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 < value < float("inf"):  # also refuses nan
        raise SettingsError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


def _local_signing_key(data_dir: Path) -> str:
    """The embedded default's HS256 key: made once, kept in the data folder, never logged."""
    path = data_dir / _SECRET_FILE_NAME
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create with owner-only permissions before writing, so the key is never world-readable.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
