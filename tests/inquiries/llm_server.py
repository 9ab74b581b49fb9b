"""An OpenAI-compatible Chat Completions API on loopback, as the API reference says.

A real HTTP server (``ThreadingHTTPServer`` in a thread on a free port):

- ``POST /v1/chat/completions``: ``Authorization: Bearer <key>`` (401 with an OpenAI-style
  error body otherwise); a JSON body with ``model`` and a non-empty ``messages`` list of
  ``{"role", "content"}`` (400 otherwise). Every request is recorded in
  :attr:`LlmServer.requests` (headers and parsed body).
- Answers are scripted with :meth:`reply` (the assistant's text, given back as a
  ``chat.completion`` object with ``choices[0].message.content``), :meth:`fail` (an HTTP
  status with an error body), :meth:`garbage` (200 with a body that is not JSON) and
  :meth:`slow` (wait that many seconds first — the caller's timeout is shorter).
  Without a script it answers "I do not know." (which cites nothing).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import free_port


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def prompt(self) -> str:
        """Every message's content, joined: what the model was shown."""
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


@dataclass
class LlmServer:
    key: str = "test-llm-key"
    requests: list[Recorded] = field(default_factory=list)
    _script: list[tuple[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    port: int = 0

    def start(self) -> LlmServer:
        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- script -------------------------------------------------------------------------

    def reply(self, text: str) -> None:
        with self._lock:
            self._script.append(("reply", text))

    def fail(self, status: int = 500) -> None:
        with self._lock:
            self._script.append(("fail", status))

    def garbage(self) -> None:
        with self._lock:
            self._script.append(("garbage", None))

    def slow(self, seconds: float, text: str = "Too late [1].") -> None:
        with self._lock:
            self._script.append(("slow", (seconds, text)))

    def _next(self) -> tuple[str, Any]:
        with self._lock:
            return self._script.pop(0) if self._script else ("reply", "I do not know.")

    # --- the API ------------------------------------------------------------------------

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        if path != "/v1/chat/completions":
            return 404, _error("Unknown URL", "invalid_request_error")
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return 400, _error("We could not parse the JSON body", "invalid_request_error")
        with self._lock:
            self.requests.append(Recorded(path, headers, body))
        if headers.get("authorization") != f"Bearer {self.key}":
            return 401, _error("Incorrect API key provided", "invalid_request_error")
        messages = body.get("messages") if isinstance(body, dict) else None
        if (
            not isinstance(body, dict)
            or not body.get("model")
            or not isinstance(messages, list)
            or not messages
            or not all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in messages)
        ):
            return 400, _error("'model' and 'messages' are required", "invalid_request_error")
        kind, arg = self._next()
        if kind == "fail":
            return int(arg), _error("The server had an error", "server_error")
        if kind == "garbage":
            return 200, b"<html>upstream proxy error</html>"
        if kind == "slow":
            seconds, arg = arg
            time.sleep(seconds)
        completion = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": arg},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        return 200, json.dumps(completion).encode()


def _error(message: str, kind: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": None}}).encode()


def _handler(server: LlmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = server.handle(self.path, headers, raw)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
