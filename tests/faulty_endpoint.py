"""A real HTTP endpoint on 127.0.0.1 in front of a real model server, that misbehaves on demand.

`mode` is switched by the test between questions: "pass" forwards every request (streams too),
"slow" answers 504 only after `delay` seconds, "html" answers an HTML error page with status 200
(a proxy or a wrong URL), "broken-stream" answers a server-sent-event stream of broken JSON.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

from tests.servers import free_port

Mode = Literal["pass", "slow", "html", "broken-stream"]
_HOP_BY_HOP = {"host", "connection", "content-length", "transfer-encoding", "accept-encoding"}


class FaultyEndpoint:
    def __init__(self, upstream: str, delay: float = 30.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.delay = delay
        self.mode: Mode = "pass"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultyEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(b"")

            def do_POST(self) -> None:
                self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _answer(self, body: bytes) -> None:
                with contextlib.suppress(ConnectionError, http.client.HTTPException):  # a side hung up: fine
                    if endpoint.mode == "html":
                        self._send(200, "text/html", b"<html><body><h1>Welcome to nginx!</h1></body></html>")
                    elif endpoint.mode == "broken-stream":
                        self._send(
                            200, "text/event-stream", b'data: {"id": "x", "choices": [{"delta": {"cont\n\n'
                        )
                    elif endpoint.mode == "slow":  # then gives up, never loading the model server
                        time.sleep(endpoint.delay)
                        self._send(504, "text/plain", b"upstream timed out")
                    else:
                        self._forward(body)

            def _send(self, status: int, content_type: str, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _forward(self, body: bytes) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                request = urllib.request.Request(
                    endpoint.upstream + self.path, data=body or None, headers=headers, method=self.command
                )
                try:
                    upstream = urllib.request.urlopen(request, timeout=300)
                except urllib.error.HTTPError as error:
                    upstream = error
                with upstream:
                    self.send_response(upstream.status)
                    for key, value in upstream.headers.items():
                        if key.lower() not in _HOP_BY_HOP:
                            self.send_header(key, value)
                    self.end_headers()  # HTTP/1.0: the body ends when the connection closes
                    while chunk := upstream.read1(8192):
                        self.wfile.write(chunk)
                        self.wfile.flush()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the test's output is the assistant's, not this server's."""

        return Handler
