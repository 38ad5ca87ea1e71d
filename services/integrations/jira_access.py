"""How this process reaches Jira: the operator's secrets space and the outbound guard, from the settings.

Every use of a connection's secret references and site goes through one `JiraAccess`, so the
rules of docs/security.md ("Secrets", "Outbound calls") hold for the API, the webhook receiver
and the push workers alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from services.integrations.jira_client import JiraClient
from services.kit.outbound import OutboundGuard, Resolver, system_resolver
from services.kit.secrets import check_reference, read_secret
from services.kit.settings import Settings


class JiraSite(Protocol):
    """What a client needs of a connection (a stored row, or one being created)."""

    site_url: str
    account_email: str
    api_token_ref: str


class JiraAccess:
    """Secrets read only from the operator's space, and Jira sites called only through the guard."""

    def __init__(self, settings: Settings, *, resolver: Resolver = system_resolver) -> None:
        self.secrets_dir: Path = settings.secrets_dir
        self.guard = OutboundGuard(settings.outbound_allowed_hosts, resolver=resolver)
        self.webhook_max_age_seconds = settings.webhook_max_age_seconds

    def check_reference(self, reference: str) -> None:
        """SecretError unless the reference names a secret in the operator's space."""
        check_reference(reference, secrets_dir=self.secrets_dir)

    def secret(self, reference: str) -> str:
        """The secret behind a reference, checked again as it is read (SecretError otherwise)."""
        return read_secret(reference, secrets_dir=self.secrets_dir)

    def client(self, site: JiraSite, **options: Any) -> JiraClient:
        """A client of the connection's Jira with its API token (SecretError, OutboundRefused when refused)."""
        token = self.secret(site.api_token_ref)
        return JiraClient.connect(site.site_url, site.account_email, token, guard=self.guard, **options)
