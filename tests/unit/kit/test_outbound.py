"""The outbound guard's rules on their own: addresses, spellings, schemes and the operator's exceptions.

DNS here is a dictionary passed as the guard's resolver (a stand-in for DNS, not for our code),
so these tests need no network. The connection-level tests are in
tests/integration/test_outbound_guard.py.
"""

from __future__ import annotations

import ipaddress

import pytest

from services.kit.outbound import OutboundGuard, OutboundRefused, address_problem

pytestmark = pytest.mark.unit


def dns(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "240.0.0.1",
        "255.255.255.255", "192.0.2.10", "198.51.100.7", "203.0.113.9", "198.18.0.1", "192.0.0.8",
        "::", "::1", "::ffff:127.0.0.1", "::ffff:8.8.8.8", "::127.0.0.1", "::8.8.8.8", "fe80::1", "fc00::1",
        "fd12:3456::1", "fec0::1", "ff02::1", "2001:db8::1", "2002:7f00:1::1", "2002:a00:1::", "2002:c0a8:101::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2", "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::1", "100::1",
    ],
)  # fmt: skip
def test_every_address_that_is_not_public_unicast_is_refused(address):
    assert address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "13.107.42.14", "2606:4700:4700::1111", "2002:808:808::1", "64:ff9b::808:808"]
)
def test_public_unicast_addresses_pass(address):
    assert address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://0x7f000001/", "https://0x7f000001/", "https://2130706433/", "https://017700000001/", "https://127.1/",
        "https://0177.0.0.1/", "https://0x7f.0.0.1/", "https://1.2.3.4.5/", "https://8.8.8.010/",
    ],
)  # fmt: skip
def test_numeric_spellings_of_addresses_are_refused_as_written(url):
    with pytest.raises(OutboundRefused):
        OutboundGuard().destination(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://jira.example.com", "https"),
        ("ftp://jira.example.com", "https"),
        ("https://user:pw@jira.example.com", "user name"),
        ("https://jira..example.com", "DNS name"),
        ("https://-jira.example.com", "DNS name"),
        ("not a url", "host"),
    ],
)
def test_only_https_to_a_plain_host_passes_the_spelling_check(url, reason):
    with pytest.raises(OutboundRefused, match=reason):
        OutboundGuard().destination(url)


async def test_a_name_is_refused_when_any_of_its_addresses_is_not_public():
    guard = OutboundGuard(resolver=dns({"mixed.example.com": ["8.8.8.8", "10.0.0.5"], "good.example.com": ["8.8.4.4"]}))
    with pytest.raises(OutboundRefused, match="private"):
        await guard.check("https://mixed.example.com")
    assert (await guard.check("https://good.example.com")).host == "good.example.com"


async def test_literal_addresses_are_checked_without_dns():
    guard = OutboundGuard(resolver=dns({}))  # any lookup would fail with KeyError
    for url in (
        "https://127.0.0.1",
        "https://[::ffff:127.0.0.1]",
        "https://[::1]:8443",
        "https://169.254.169.254",
        "https://127.0.0.1./",
    ):
        with pytest.raises(OutboundRefused):
            await guard.check(url)
    assert (await guard.check("https://8.8.8.8")).host == "8.8.8.8"


async def test_the_operators_exceptions_are_exact_and_may_use_http():
    guard = OutboundGuard(
        ["127.0.0.1:8081", "jira.internal", "[::1]:9000"], resolver=dns({"jira.internal": ["10.0.0.7"]})
    )
    assert (await guard.check("http://127.0.0.1:8081")).operator_exception
    assert (await guard.check("http://jira.internal:1234")).operator_exception  # no port given: any port
    assert (await guard.check("http://[::1]:9000")).operator_exception
    for url in ("http://127.0.0.1:8082", "http://0x7f000001:8081", "http://localhost:8081", "https://[::1]:9001"):
        with pytest.raises(OutboundRefused):
            await guard.check(url)
