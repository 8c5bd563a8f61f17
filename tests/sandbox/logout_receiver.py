"""A client's back-channel logout URI over real HTTP: it records every POST the sandbox sends."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Received:
    """One POST: its path, content type and form."""

    path: str
    content_type: str
    form: dict[str, list[str]]


@dataclass
class LogoutReceiver:
    """Answers ``status`` to every POST; with ``hang`` set, answers only when the test ends."""

    status: int = 200
    hang: bool = False
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._arrived = threading.Condition()
        self._released = threading.Event()

    def __enter__(self) -> LogoutReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                receiver.record(Received(self.path, self.headers["Content-Type"], parse_qs(body)))
                if receiver.hang:
                    receiver._released.wait(30)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Keep logout tokens out of the test output."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}/backchannel-logout"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def record(self, received: Received) -> None:
        with self._arrived:
            self.received.append(received)
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """Return the POSTs once ``count`` have come; fail if they do not come in ``timeout``."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.received) >= count, timeout)
        assert arrived, f"{len(self.received)} logout POSTs came, not {count}"
        return list(self.received)

    def tokens(self) -> list[str]:
        """Return the logout token of each POST so far."""
        return [item.form["logout_token"][0] for item in self.received]
