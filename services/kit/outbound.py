"""The one guard every call to a URL a user gave goes through (docs/security.md, "Outbound calls").

A user who may type a URL (a Jira site, and any later one) must not be able to make the server
call itself, its database, the cloud's metadata service or anything else on the internal
network. So a user-given URL is:

- `https://`, to a host that is a DNS name or a plain public IP address; numeric spellings that
  resolvers read as addresses (`2130706433`, `0x7f000001`, `017700000001`, `127.1`) are refused
  as written, before anything is resolved;
- resolved when it is checked and again on every new connection, and every address the name
  resolves to must be public unicast: no loopback, private, link-local, shared (CGNAT),
  multicast, reserved, documentation or unspecified address, no IPv4-mapped or -compatible
  IPv6, and no 6to4/NAT64 address embedding one of those (Teredo is refused as a whole);
- connected to the very address that was checked (the TLS name and the Host header stay the
  name), so a DNS answer that changes between check and connection (rebinding) cannot steer it;
- never followed through a redirect: the client does not follow them.

`ROADMAP_OUTBOUND_ALLOWED_HOSTS` lists the operator's exceptions (`host` or `host:port`): such a
destination may also be `http://` and may resolve anywhere, because the operator vouches for it.
Nothing else is exempt.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx
import msgspec

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses the host resolves to (IP strings). Tests pass their own DNS.
Resolver = Callable[[str, int], Awaitable[list[str]]]

DEFAULT_PORTS = {"https": 443, "http": 80}
RESOLVE_TIMEOUT_SECONDS = 5.0

_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
_DNS_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?")

# Special-purpose ranges (IANA registries) that are never a public destination, with the
# reason a refusal gives. `is_global` is checked as well, as a second net.
_BLOCKED: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "an unspecified address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "a reserved address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a reserved address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a reserved address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("::ffff:0:0/96", "an IPv4-mapped IPv6 address"),
        ("::/96", "an IPv4-compatible IPv6 address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001::/32", "a Teredo tunnel address"),
        ("2001:db8::/32", "a documentation address"),
        ("fc00::/7", "a unique-local (private) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(Exception):
    """A destination the guard refuses. Its message says why and is safe to show the user."""


def address_problem(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address, or None when it is one."""
    for network, reason in _BLOCKED:
        if address.version == network.version and address in network:
            return reason
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.sixtofour or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None
        )
        if embedded is not None and (problem := address_problem(embedded)):
            return f"{problem} inside an IPv6 address"
    if not address.is_global:
        return "not a public address"
    return None


class Destination(msgspec.Struct, frozen=True):
    """Where a URL leads, as the guard read it: `host` normalised (lower case, no brackets)."""

    scheme: str
    host: str
    port: int
    operator_exception: bool


class AllowedHosts:
    """The operator's exceptions: `host` (any port) or `host:port`, IPv6 in brackets."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._any_port: set[str] = set()
        self._with_port: set[tuple[str, int]] = set()
        for entry in entries:
            host, port = _split_host_port(entry.strip().lower())
            if port is None:
                self._any_port.add(host)
            else:
                self._with_port.add((host, port))

    def allows(self, host: str, port: int) -> bool:
        return host in self._any_port or (host, port) in self._with_port


def _split_host_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":") or None
    else:
        host, _, port_text = entry.partition(":")
        port = port_text or None
    return _normal_host(host), int(port) if port is not None else None


def _normal_host(host: str) -> str:
    host = host.lower().removesuffix(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for `host`, in its order, without repeats."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class OutboundGuard:
    """Checks user-given URLs and makes the HTTP clients that may call them (see the module docstring)."""

    def __init__(self, allowed_hosts: Iterable[str] = (), *, resolver: Resolver = system_resolver) -> None:
        self._allowed = AllowedHosts(allowed_hosts)
        self._resolve = resolver

    def destination(self, url: str | httpx.URL) -> Destination:
        """Check what can be checked without the network: scheme, host spelling, exceptions."""
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
            raw_host = parsed.raw_host.decode("ascii")
            port = parsed.port
        except (httpx.InvalidURL, UnicodeDecodeError, ValueError):
            raise OutboundRefused("is not a valid URL") from None
        scheme = parsed.scheme
        if parsed.userinfo:
            raise OutboundRefused("must not carry a user name or password")
        if not raw_host:
            raise OutboundRefused("has no host")
        host = _normal_host(raw_host)
        port = port or DEFAULT_PORTS.get(scheme, 0)
        exception = self._allowed.allows(host, port)
        if scheme != "https" and not (exception and scheme == "http"):
            raise OutboundRefused("must be an https:// address")
        if not exception:
            _check_spelling(host)
        return Destination(scheme=scheme, host=host, port=port, operator_exception=exception)

    def connection_to(self, host: str, port: int) -> Destination:
        """The destination of a new connection to `host:port` (its scheme is the request's business)."""
        host = _normal_host(host)
        return Destination(scheme="", host=host, port=port, operator_exception=self._allowed.allows(host, port))

    async def addresses(self, destination: Destination, *, timeout: float | None = None) -> list[str]:
        """Resolve the destination's host once and return its addresses, each one checked.

        Connect only to these addresses: resolving again could give others.
        """
        try:
            literal: IPAddress | None = ipaddress.ip_address(destination.host)
        except ValueError:
            literal = None
        if literal is not None:
            found = [str(literal)]
        else:
            try:
                found = await asyncio.wait_for(
                    self._resolve(destination.host, destination.port), timeout or RESOLVE_TIMEOUT_SECONDS
                )
            except TimeoutError:
                raise httpcore.ConnectTimeout(f"resolving {destination.host} took too long") from None
            except OSError as error:
                raise httpcore.ConnectError(f"{destination.host} could not be resolved ({error})") from None
            if not found:
                raise httpcore.ConnectError(f"{destination.host} resolves to no address")
        if destination.operator_exception:
            return found
        for text in found:
            try:
                problem = address_problem(ipaddress.ip_address(text))
            except ValueError:
                problem = "not an IP address"
            if problem:
                # One bad address refuses the name: a resolver may hand out any of them next time.
                raise OutboundRefused(f"leads to {problem}, not a public one")
        return found

    async def check(self, url: str) -> Destination:
        """Everything `destination` checks, and that the host resolves only to public addresses now."""
        destination = self.destination(url)
        await self.addresses(destination)
        return destination

    def client(self, base_url: str, **options: Any) -> httpx.AsyncClient:
        """An HTTP client for `base_url` whose every connection is checked and made to the checked address.

        Redirects are not followed, proxies from the environment not used. `options` are the
        httpx.AsyncClient's (timeout, auth, headers).
        """
        self.destination(base_url)
        return httpx.AsyncClient(
            base_url=base_url, transport=GuardedTransport(self), follow_redirects=False, trust_env=False, **options
        )


def _check_spelling(host: str) -> None:
    try:
        ipaddress.ip_address(host)
        return  # a plain address: its value is checked once it is known to be the one dialled
    except ValueError:
        pass
    labels = host.split(".")
    # Resolvers read a host whose last label is a number as an IPv4 address, in any base and
    # with any number of parts (the URL standard does the same): refuse those spellings.
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        raise OutboundRefused("spells an IP address in a non-standard form; write a DNS name")
    if len(host) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        raise OutboundRefused("has a host that is not a valid DNS name")


class _GuardedNetwork(httpcore.AsyncNetworkBackend):
    """Opens each connection to an address the guard resolved and checked just before."""

    def __init__(self, guard: OutboundGuard, dial: httpcore.AsyncNetworkBackend) -> None:
        self._guard = guard
        self._dial = dial

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # Scheme and spelling were checked for the request; what remains is where the host leads.
        destination = self._guard.connection_to(host, port)
        failure: Exception | None = None
        for address in await self._guard.addresses(destination, timeout=timeout):
            try:
                # httpcore starts TLS afterwards with the request's host as the server name, so the
                # certificate is checked against the name, not against this address.
                return await self._dial.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None  # addresses() never returns an empty list
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundRefused("may not reach a local socket")

    async def sleep(self, seconds: float) -> None:
        await self._dial.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with a connection pool that dials only through the guard.

    Every request's URL is checked again (scheme, spelling, exceptions) before it is sent, so
    an absolute URL given to a client meant for another host is refused as well.
    """

    def __init__(self, guard: OutboundGuard, *, dial: httpcore.AsyncNetworkBackend | None = None) -> None:
        super().__init__(trust_env=False)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        self._guard = guard
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedNetwork(guard, dial or httpcore.AnyIOBackend()),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._guard.destination(request.url)
        return await super().handle_async_request(request)
