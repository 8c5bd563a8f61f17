"""A server in front of the sandbox that answers like one ignoring DPoP: Bearer token responses.

RFC 9449 §5 lets a server ignore a proof and issue a Bearer token; the sandbox never does, so
this proxy forwards every request to it (the sandbox's issuer is the proxy's URL) and says
``token_type: Bearer`` in each token response, the token itself untouched.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

# Not passed on: requests decodes the body, and the proxy sends its own framing, Server and Date.
HOP_BY_HOP = {
    *("connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"),
    *("server", "date"),
}


class UnbindingProxy:
    """Forward to ``target``; rewrite the token endpoint's answers to ``token_type: Bearer``."""

    def __init__(self) -> None:
        self.target = ""
        self.token_path = "/oauth/v2/token"  # nosec B105 - a path
        self.rewritten = 0  # token responses answered as Bearer
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._forward()

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self._forward()

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                # The Host header goes as it came: the sandbox checks each DPoP proof's htu
                # against the URL it was sent to, the proxy's.
                upstream = requests.request(
                    self.command,
                    proxy.target + self.path,
                    data=body,
                    headers={k: v for k, v in self.headers.items() if k != "Accept-Encoding"},
                    allow_redirects=False,
                    timeout=10,
                )
                content = upstream.content
                if self.path == proxy.token_path and upstream.status_code == 200:
                    content = json.dumps({**upstream.json(), "token_type": "Bearer"}).encode()
                    proxy.rewritten += 1
                self.send_response(upstream.status_code)
                for name, value in upstream.raw.headers.items():  # each Set-Cookie apart
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Keep the forwarded codes and tokens out of the test output."""

        return Handler

    @contextmanager
    def running(self, target: str) -> Iterator[UnbindingProxy]:
        self.target = target
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()
