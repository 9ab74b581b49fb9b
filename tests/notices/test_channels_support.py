"""What the channel tests share: items to send, SMTP servers that count and refuse, the
LINE server on loopback, and a clock for the rate limit (tokens are counted, never timed)."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from cityhall.notices.channels.base import Outgoing
from tests.conftest import free_port
from tests.notices.line_server import LineServer


def outgoing(**fields: Any) -> Outgoing:
    values: dict[str, Any] = {
        "key": str(uuid.uuid4()),
        "delivery_id": 1,
        "message_id": 0,
        "user_id": 1,
        "channel": "email",
        "addresses": ["hanako@example.jp"],
        "language": "ja",
        "subject": "夏祭りのお知らせ",
        "body": "8月10日に上野公園で夏祭りを開きます。\n\n雨天の場合は中止します。",
        "url": "https://city.iga.example/news/natsumatsuri/",
        "unsubscribe_url": "",
        "topic": "events",
    }
    values.update(fields)
    return Outgoing(**values)


@dataclass
class FakeClock:
    """A monotonic clock that only moves when the bucket sleeps."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class CountingSmtp:
    """aiosmtpd on loopback that counts connections (EHLO/HELO), keeps the raw bytes, and
    refuses some recipients: ``gone@…`` with 550, ``busy@…`` with 450."""

    host: str = "127.0.0.1"
    port: int = 0
    connections: int = 0
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    controller: Any = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for raw in self.raw]  # type: ignore[misc,unused-ignore]

    def start(self) -> CountingSmtp:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_EHLO(
                self, server: Any, session: Any, envelope: Any, hostname: str, responses: Any
            ) -> Any:
                sink.connections += 1
                session.host_name = hostname
                return responses

            async def handle_HELO(
                self, server: Any, session: Any, envelope: Any, hostname: str
            ) -> str:
                sink.connections += 1
                session.host_name = hostname
                return f"250 {server.hostname}"

            async def handle_RCPT(
                self, server: Any, session: Any, envelope: Any, address: str, options: Any
            ) -> str:
                if address.startswith("gone@"):
                    return "550 5.1.1 No such user here"
                if address.startswith("busy@"):
                    return "450 4.2.1 Mailbox busy, try again later"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.raw.append(bytes(envelope.original_content or envelope.content))
                sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname=self.host, port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()


class BusyGreeter:
    """A server that answers every connection with ``421`` and hangs up (counts them)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.connections = 0
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(16)
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _addr = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.sendall(b"421 4.3.2 Service not available, closing channel\r\n")

    def stop(self) -> None:
        self._stop = True
        self._sock.close()


@pytest.fixture
def counting_smtp(settings: Any) -> Iterator[CountingSmtp]:
    sink = CountingSmtp().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = sink.host
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.NOTICES_EMAIL_FALLBACK = ""
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def line_server(settings: Any) -> Iterator[LineServer]:
    server = LineServer().start()
    settings.LINE_API_URL = server.origin
    settings.LINE_CHANNEL_ACCESS_TOKEN = server.token
    settings.LINE_CHANNEL_SECRET = server.channel_secret
    settings.LINE_LOGIN_CHANNEL_ID = server.login_channel_id
    settings.LINE_LOGIN_CHANNEL_SECRET = server.login_channel_secret
    settings.LINE_LOGIN_AUTHORIZE_URL = server.origin + "/oauth2/v2.1/authorize"
    settings.LINE_LOGIN_API_URL = server.origin
    settings.LINE_RATE = 0
    try:
        yield server
    finally:
        server.stop()
