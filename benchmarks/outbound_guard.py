"""What the outbound guard costs a call to Jira, against plain httpx to the same local server.

A minimal HTTP server on loopback answers every request at once with Jira's `myself` body, so
the client side is what is measured. The destination is named `localhost:<port>` and is the
operator's exception, so each new connection is resolved and checked as any Jira site's is.
Rows, each a median of interleaved rounds in the same run:

- plain httpx (the baseline), the guarded client, and the JiraClient on it (streamed, size-
  bounded read, Jira-shape check, typed decode), reusing one connection;
- the same with a new connection per request (`Connection: close`), where the guard resolves
  and checks the name each time.

    .venv/bin/python -m benchmarks.outbound_guard [--requests 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx

from services.integrations.jira_client import JiraClient
from services.kit.outbound import OutboundGuard

BODY = b'{"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Roadmap Robot", "active": true}'


async def serve(close: bool) -> tuple[asyncio.Server, int, set[asyncio.Task]]:
    """A server answering every request with BODY; it closes each connection after one answer when `close`.

    Also returns its connections' tasks, to be awaited once the clients have closed theirs.
    """
    handlers: set[asyncio.Task] = set()
    header = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}\r\n"
        f"X-AREQUESTID: 1x1\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n"
    ).encode()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(header + BODY)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], handlers


async def timed(requests: int, call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        await call()
    return time.perf_counter() - started


async def measure(requests: int, rounds: int, *, close: bool) -> dict[str, float]:
    server, port, handlers = await serve(close)
    base = f"http://localhost:{port}"
    guard = OutboundGuard([f"localhost:{port}"])
    headers = {"Connection": "close"} if close else {}
    plain = httpx.AsyncClient(base_url=base, headers=headers, trust_env=False)
    guarded = guard.client(base, headers=headers)
    jira = JiraClient.connect(base, "robot@example.com", "token", guard=guard)
    if close:
        jira._http.headers["Connection"] = "close"  # the benchmark's one reach inside: a new connection per call
    paths = {
        "plain httpx (baseline)": lambda: plain.get("/rest/api/3/myself"),
        "guarded httpx client": lambda: guarded.get("/rest/api/3/myself"),
        "JiraClient.myself on the guarded client": jira.myself,
    }
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    try:
        for call in paths.values():  # warm up: imports, first connections
            await timed(20, call)
        for _ in range(rounds):
            for name, call in paths.items():
                seconds[name].append(await timed(requests, call))
    finally:
        await plain.aclose()
        await guarded.aclose()
        await jira.aclose()
        await asyncio.gather(*handlers)  # each ends on its client's close
        server.close()
        await server.wait_closed()
    return {name: statistics.median(values) for name, values in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"{args.requests} sequential requests to a local server, median of {args.rounds} interleaved rounds:\n")
    print("| connections | path | µs per request | time / baseline |")
    print("|---|---|---:|---:|")
    for close, label in ((False, "one, kept alive"), (True, "a new one per request")):
        results = asyncio.run(measure(args.requests, args.rounds, close=close))
        baseline = results["plain httpx (baseline)"]
        for name, value in results.items():
            print(f"| {label} | {name} | {value / args.requests * 1e6:.0f} | {value / baseline:.2f}x |")


if __name__ == "__main__":
    main()
