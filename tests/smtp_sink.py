"""A real SMTP server (aiosmtpd) for tests: keeps what it receives and can stall on cue."""

import asyncio
import email
import threading
import time
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

from tests.servers import free_port


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.sink.rcpt_seen.set()
        if self.sink.refuse_rcpt:
            return "550 5.1.1 No such mailbox"
        while self.sink.stall_rcpt.is_set():
            await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.sink.messages.append(
            email.message_from_bytes(envelope.original_content, policy=default_policy)
        )
        self.sink.data_seen.set()
        while self.sink.stall_after_data.is_set():
            await asyncio.sleep(0.05)
        return "250 2.0.0 Queued"


class SmtpSink:
    """`with SmtpSink() as sink:` serves on sink.port; `sink.messages` holds what arrived."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list = []
        self.refuse_rcpt = False
        self.stall_rcpt = threading.Event()
        self.stall_after_data = threading.Event()
        self.rcpt_seen = threading.Event()
        self.data_seen = threading.Event()
        self._controller = None

    def start(self) -> "SmtpSink":
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        self.stall_rcpt.clear()
        self.stall_after_data.clear()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def wait_for(condition, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    """Poll until `condition()` is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
