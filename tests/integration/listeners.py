"""A TCP listener on loopback that records every connection made to it, for the outbound-guard tests.

It stands for whatever else listens inside a network (a database, a metadata service, an admin
port): the server must not connect to it unless the operator named it. `answer` is sent to
every connection, as raw bytes: HTML, a redirect, a Jira look-alike, or nothing.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


def http_answer(status: str, body: bytes = b"", **headers: str) -> bytes:
    """Raw HTTP/1.1 answer bytes, closing the connection after."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


HTML_NOT_FOUND = http_answer(
    "404 Not Found", b"<html><body>internal admin: not found</body></html>", Content_Type="text/html"
)
REDIRECT_TO_METADATA = http_answer("302 Found", Location="http://169.254.169.254/latest/meta-data/")
JSON_NOT_JIRA = http_answer("200 OK", b'{"internal": "status: ok"}', Content_Type="application/json")
UNAUTHORIZED_TEXT = http_answer("401 Unauthorized", b"login required", Content_Type="text/plain")
NOT_HTTP = b"SSH-2.0-OpenSSH_9.6\r\n"


class Listener:
    """Accepts connections on 127.0.0.1, records what each sent first, answers `answer`, closes."""

    def __init__(self, answer: bytes = b"") -> None:
        self.answer = answer
        self.received: list[bytes] = []
        self._lock = threading.Lock()
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port: int = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name=f"listener-{self.port}", daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self.received)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:  # closed: stop
                return
            with connection:
                connection.settimeout(2)
                try:
                    first = connection.recv(65536)
                except OSError:
                    first = b""
                with self._lock:
                    self.received.append(first)
                try:
                    connection.sendall(self.answer)
                except OSError:
                    pass

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked in the thread
        self._socket.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request in full (method, path, headers,
    body) and answers each with the next status of `statuses` (the last one once they run out).

    It stands for an event subscriber: a chat bridge that is down for a while, then takes events.
    """

    def __init__(self, *statuses: int) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.statuses = list(statuses) or [204]
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(("POST", self.path, dict(self.headers.items()), body))
                    status = receiver.statuses[min(len(receiver.requests), len(receiver.statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # keep the test output quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"receiver-{self.port}", daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}/events"

    def received(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        with self._lock:
            return list(self.requests)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
