"""The outbound guard on real connections: what it dials, and what a loopback listener receives.

DNS is the one thing faked here: the guard takes a resolver function, and these tests pass one
that answers what an attacker's name server would (a public address at check time, a private one
a moment later). Sockets, httpx and the listener are real. Where a test needs to see an address
being dialled that it cannot reach (a public one), the network layer below httpcore records the
dial instead of making it.
"""

from __future__ import annotations

import httpcore
import httpx
import pytest
from listeners import Listener, http_answer

from services.kit.outbound import GuardedTransport, OutboundGuard, OutboundRefused

pytestmark = pytest.mark.integration

PUBLIC = "93.184.215.14"


class Answers:
    """A name server whose answers for a name change with each question, as a rebinding one's do."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.questions: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.questions.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class RecordedDials(httpcore.AsyncNetworkBackend):
    """The network layer below the guard: records where it is asked to connect, connects nowhere."""

    def __init__(self) -> None:
        self.dialled: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[no-untyped-def]
        self.dialled.append((host, port))
        raise httpcore.ConnectError(f"{host} is not reachable from the tests")

    async def sleep(self, seconds: float) -> None:
        return None


async def test_a_name_that_rebinds_to_loopback_after_the_check_never_reaches_the_listener():
    with Listener(http_answer("200 OK", b"{}")) as listener:
        dns = Answers([PUBLIC], ["127.0.0.1"])
        guard = OutboundGuard(resolver=dns)
        # "localhost": were the name handed to the system resolver after the check, it would land on the listener.
        url = f"https://localhost:{listener.port}/rest/api/3/myself"
        assert (await guard.check(url)).host == "localhost"  # the check sees the public answer
        async with guard.client(f"https://localhost:{listener.port}") as client:
            with pytest.raises(OutboundRefused, match="loopback"):
                await client.get("/rest/api/3/myself")
    assert dns.questions == ["localhost", "localhost"]  # asked again for the connection, and refused
    assert listener.connections == 0


async def test_the_connection_goes_to_the_address_that_was_checked_not_to_a_second_lookup():
    with Listener(http_answer("200 OK", b"{}")) as listener:
        dns = Answers([PUBLIC])
        dials = RecordedDials()
        guard = OutboundGuard(resolver=dns)
        async with httpx.AsyncClient(
            base_url=f"https://localhost:{listener.port}", transport=GuardedTransport(guard, dial=dials)
        ) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get("/rest/api/3/myself")
    assert dials.dialled == [(PUBLIC, listener.port)]  # one lookup, checked, dialled as checked
    assert dns.questions == ["localhost"]
    assert listener.connections == 0


async def test_a_public_answer_mixed_with_a_private_one_is_refused_before_any_dial():
    dials = RecordedDials()
    guard = OutboundGuard(resolver=Answers([PUBLIC, "10.0.0.8"]))
    async with httpx.AsyncClient(transport=GuardedTransport(guard, dial=dials)) as client:
        with pytest.raises(OutboundRefused, match="private"):
            await client.get("https://jira.example.com/rest/api/3/myself")
    assert dials.dialled == []


async def test_only_the_named_exception_reaches_the_listener_and_the_host_header_stays_the_name():
    with Listener(http_answer("204 No Content")) as listener:
        # The operator names localhost:<port>; the name resolves to the listener's address.
        guard = OutboundGuard([f"localhost:{listener.port}"], resolver=Answers(["127.0.0.1"]))
        refused = OutboundGuard([f"localhost:{listener.port + 1}", "127.0.0.2"], resolver=Answers(["127.0.0.1"]))
        for url in (
            f"http://localhost:{listener.port}/",
            f"http://127.0.0.1:{listener.port}/",
            f"https://localhost:{listener.port}/",
        ):
            with pytest.raises(OutboundRefused):  # refused when the client is made, or when it connects
                async with refused.client(url) as client:
                    await client.get("/")
        assert listener.connections == 0
        async with guard.client(f"http://localhost:{listener.port}") as client:
            response = await client.get("/rest/api/3/myself")
            with pytest.raises(OutboundRefused):  # an absolute URL to another host, through the same client
                await client.get(f"http://127.0.0.1:{listener.port}/")
    assert response.status_code == 204
    assert listener.connections == 1
    assert f"host: localhost:{listener.port}".encode() in listener.received[0].lower()
