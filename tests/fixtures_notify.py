"""Real receivers for what the clinic sends: an SMTP server (aiosmtpd) and a webhook endpoint.

`smtp_server` listens on 127.0.0.1 on a port picked first (aiosmtpd cannot start on port 0,
see TOOLCHAIN.md); `stop()` and `start()` take it down and bring it back on the same port.
`webhook_receiver` is http.server in a thread that keeps each JSON body it is sent.
`mail_app` is the `app` fixture configured to send through both.
"""
from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from pos import update_settings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = threading.Condition()
        self.open_gate = threading.Event()
        self.open_gate.set()
        self.waiting = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if not self.open_gate.is_set():  # a slow mail server: answer only when released
            self.waiting.set()
            self.open_gate.wait(15)
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


class SmtpServer:
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = free_port()
        self._collector = _Collector()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self._collector.messages

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        return self._collector.envelopes

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def body(self, index: int) -> str:
        part = self.messages[index].get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def hold(self) -> None:
        """Keep the next message waiting for its answer until `release()`."""
        self._collector.waiting.clear()
        self._collector.open_gate.clear()

    def wait_until_held(self, timeout: float = 15.0) -> bool:
        return self._collector.waiting.wait(timeout)

    def release(self) -> None:
        self._collector.open_gate.set()

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(self._collector, hostname=self.host, port=self.port)
            self._controller.start()

    def stop(self) -> None:
        self.release()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 15.0) -> bool:
        """Block until `count` messages have arrived (for a deliverer in another thread or process)."""
        with self._collector.arrived:
            return self._collector.arrived.wait_for(lambda: len(self.messages) >= count,
                                                    timeout)

    def config(self) -> dict[str, Any]:
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, "MAIL_USE_TLS": False,
                "MAIL_USERNAME": None, "MAIL_FROM": "pos@clinic.test"}


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class WebhookReceiver:
    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if receiver.status < 300:
                    receiver.bodies.append(json.loads(raw or b"null"))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks/stock"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


@pytest.fixture
def mail_app(app, smtp_server):  # type: ignore[no-untyped-def]
    """The app (each backend) sending alert mail to the test SMTP server."""
    update_settings(app, **smtp_server.config(), ALERT_EMAIL_TO="manager@clinic.test")
    return app
