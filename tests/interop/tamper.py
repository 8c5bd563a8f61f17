"""A token endpoint in the middle: it forwards to oidc-provider's and alters the ID token.

What an attacker on the path, or a broken proxy, could do to a token response in transit:
break the ID token's signature, swap in one from an earlier sign-in, or drop it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

FORWARDED = ("Content-Type", "Accept", "Authorization", "DPoP")


class TamperingTokenEndpoint:
    """Forward token requests to ``target``; ``mode`` says what to do to the ID token."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.mode = "none"  # "none", "break_signature", "replay", "drop"
        self.seen: list[str] = []  # the ID tokens the provider issued, in order
        self.url = ""

    def alter(self, answer: dict[str, Any]) -> dict[str, Any]:
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            return answer
        earlier = self.seen[-1] if self.seen else None
        self.seen.append(id_token)
        if self.mode == "break_signature":
            head, body, signature = id_token.split(".")
            flipped = ("A" if signature[10] != "A" else "B").join((signature[:10], signature[11:]))
            answer["id_token"] = f"{head}.{body}.{flipped}"
        elif self.mode == "replay" and earlier is not None:
            answer["id_token"] = earlier
        elif self.mode == "drop":
            del answer["id_token"]
        return answer

    @contextmanager
    def running(self) -> Iterator[TamperingTokenEndpoint]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k: v for k, v in self.headers.items() if k in FORWARDED}
                upstream = requests.post(endpoint.target, data=body, headers=headers, timeout=10)
                content = upstream.content
                if upstream.status_code == 200:
                    content = json.dumps(endpoint.alter(upstream.json())).encode()
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Keep the forwarded codes and tokens out of the test output."""

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_port}/token"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
